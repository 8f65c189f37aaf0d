/** Origin and path only: user-info and query strings may hold credentials. */
export function apiBaseLabel(apiBase: string): string {
  const url = new URL(apiBase);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
