// Stands in for zod's `locales` namespace (`z.locales`, `z.core.locales`): see README.md here.
// English only, the locale zod registers by default (its schemas module imports locales/en.js
// itself), so every error message is unchanged.
export { default as en } from "zod/v4/locales/en.js";
