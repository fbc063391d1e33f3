// Types for appsscript/build.mjs, so the tests can call the build directly; no behaviour here.
export function parseServiceOrigin(raw: string | undefined, opts?: { allowHttpLoopback?: boolean }): string;
export function buildAppsScript(opts: { serviceUrl: string | undefined; out?: string; allowHttpLoopback?: boolean }): { out: string; origin: string; files: string[] };
