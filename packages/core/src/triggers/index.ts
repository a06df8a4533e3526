export * from "./limits.ts";
export * from "./match-triggers.ts";
export * from "./message-event.ts";
export * from "./not-opened-deadline.ts";
export * from "./plan-events.ts";
export * from "./trigger-rule.ts";
