import { describe, expect, it } from "vitest";

import { count } from "@/lib/count";

describe("count", () => {
  it("agrees the noun with the number, and groups thousands", () => {
    expect(count(0, "message")).toBe("0 messages");
    expect(count(1, "message")).toBe("1 message");
    expect(count(2, "message")).toBe("2 messages");
    expect(count(1, "reply", "replies")).toBe("1 reply");
    expect(count(1200, "reply", "replies")).toBe("1,200 replies");
  });
});
