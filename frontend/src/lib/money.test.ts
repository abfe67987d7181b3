import { formatUsd } from "@/lib/money";

describe("formatUsd", () => {
  it("shows cents from a cent up and two significant digits below", () => {
    expect(formatUsd(0)).toBe("$0");
    expect(formatUsd(12.345)).toBe("$12.35");
    expect(formatUsd(0.01)).toBe("$0.01");
    expect(formatUsd(0.00045)).toBe("$0.00045");
    expect(formatUsd(0.0000026)).toBe("$0.0000026");
    expect(formatUsd(0.000451)).toBe("$0.00045");
  });
});
