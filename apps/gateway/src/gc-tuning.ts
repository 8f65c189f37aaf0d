import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring before the gateway allocates anything per request.
 *
 * V8 watches each object literal's allocation site and, when most of a site's objects survive a
 * scavenge, allocates that site's objects straight in the old generation from then on. Under load
 * (a warm-up burst, a closed loop, a slow upstream) most of the objects a request makes are alive at
 * the scavenge, so sites such as the request's own state get "tenured" — and then every request's
 * state lives in the old generation, pointing at the young objects it holds (the parsed 16 KB body,
 * the header objects): scavenges must keep those alive until the next mark-compact, copy them twice
 * and promote them. Measured at 500 req/s with the seed's body (`--trace-gc`, and a sampling heap
 * profile that leaves out what scavenges collect): ~25 KB promoted per request and scavenge pauses of
 * 4–15 ms, where the bare proxy promotes nothing and pauses ~1 ms; with pretenuring off (and the
 * batched Redis scripts out of auto-pipelining, see `libs/ratelimit/src/redis-store.ts`) the gateway
 * promotes ~1 KB a request, pauses ~1.5 ms and needs no mark-compact in a 10 s run. A server's
 * long-lived objects are made at startup, so what pretenuring saves them (one copy) is nothing here.
 *
 * V8 reads this flag whenever a scavenge weighs its allocation sites, so setting it at startup
 * takes effect; this module is imported first by `main.ts`, before any request is served.
 */
setFlagsFromString('--no-allocation-site-pretenuring');
