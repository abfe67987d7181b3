import { hrefFor, parseRoute } from "@/lib/router";

describe("router", () => {
  it("round-trips conversation routes and rejects anything else", () => {
    expect(parseRoute(hrefFor({ name: "conversation", id: "01JABC" }))).toEqual({ name: "conversation", id: "01JABC" });
    expect(parseRoute("#/c/../../etc")).toEqual({ name: "home" });
    expect(parseRoute("")).toEqual({ name: "home" });
  });

  it("has a route for a new chat that does not exist yet", () => {
    expect(parseRoute(hrefFor({ name: "new" }))).toEqual({ name: "new" });
    expect(parseRoute("#/new/x")).toEqual({ name: "home" });
  });
});
