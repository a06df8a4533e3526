import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeClient } from "../src/edge-client.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { FeedBuilder } from "./helpers/feed.ts";

let edge: FakeEdge;
let client: EdgeClient;
const feed = new FeedBuilder();

beforeAll(async () => {
  edge = await new FakeEdge().start();
  client = new EdgeClient({ baseUrl: `${edge.url}/`, token: edge.token, timeoutMs: 2000 });
  for (let i = 0; i < 5000; i++) await feed.add({ address: `u${i % 50}@example.com` });
});
afterAll(() => edge?.stop());

describe("finding the edge's head seq", () => {
  it.each([
    { name: "an empty feed", size: 0, from: 0 },
    { name: "cursor at the head", size: 5000, from: 5000 },
    { name: "less than a page behind", size: 5000, from: 4500 },
    { name: "many pages behind", size: 5000, from: 0 },
    { name: "a head just past a page boundary", size: 2001, from: 0 },
    { name: "a cursor ahead of the edge (edge reset)", size: 1234, from: 3000 },
  ])("$name", async ({ size, from }) => {
    edge.events = feed.events.slice(0, size);
    const before = edge.requests;
    expect(await client.head(from)).toBe(size);
    // Galloping and bisecting: a few dozen requests at most, not one per page.
    expect(edge.requests - before).toBeLessThan(30);
  });
});

describe("answers that are not a change page", () => {
  it("reports a non-JSON answer as a bad response", async () => {
    const bad = new EdgeClient({ baseUrl: `${edge.url}/health/x`, token: edge.token, timeoutMs: 2000 });
    await expect(bad.changes({ after: 0, limit: 1 })).rejects.toMatchObject({ kind: "edge_rejected" });
  });

  it("reports a malformed page as a bad response naming the field", async () => {
    edge.faults.push({ type: "override", changes: [{ seq: "1" } as never] });
    await expect(client.changes({ after: 0, limit: 1 })).rejects.toMatchObject({
      kind: "edge_bad_response",
      retryable: false,
      message: expect.stringMatching(/changes\.0\.seq/),
    });
  });
});
