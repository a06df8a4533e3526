import { type CountryCode, getCountries } from "libphonenumber-js/max";
import { z } from "zod";

/**
 * A default region: the ISO 3166-1 alpha-2 code with which `normalizeAddress` reads a national
 * number (`(415) 555-0100` in "US"). Only the regions of the very metadata build `address.ts`
 * reads with: libphonenumber-js rejects any other default region outright, also for numbers in
 * E.164, so one unknown code would make every phone number of an account unreadable.
 */
export const Region = z
  .enum(getCountries() as [CountryCode, ...CountryCode[]], {
    // The default message would list all ~245 codes.
    error: 'must be an upper-case ISO 3166-1 alpha-2 region libphonenumber-js supports, e.g. "US"',
  })
  .meta({
    id: "Region",
    description:
      "ISO 3166-1 alpha-2 region (upper case) used to read national-format phone numbers, e.g. " +
      '"US"; one of the regions libphonenumber-js supports.',
  });
export type Region = z.infer<typeof Region>;
