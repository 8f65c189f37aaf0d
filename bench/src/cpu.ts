import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK` (the unit of utime/stime in /proc/<pid>/stat), 100 if it cannot be read. */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one process, in clock ticks (0 if it is gone). */
export function processTicks(pid: number): number {
  return statTicks(`/proc/${pid}/stat`);
}

/** utime + stime of one thread of a process, in clock ticks (0 if it is gone). */
export function threadTicks(pid: number, tid: number | string): number {
  return statTicks(`/proc/${pid}/task/${tid}/stat`);
}

function statTicks(path: string): number {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return 0;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the whole line are utime and stime; after the ')' field 3 is index 0.
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

/** The pid and all its descendants (via /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const children = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (children) for (const c of children.split(/\s+/)) out.push(Number(c));
      } catch {
        // No children file (kernel without CONFIG_PROC_CHILDREN) or the task ended.
      }
    }
  }
  return out;
}

/** CPU time used so far by a process and its descendants (e.g. a gateway with --workers), in µs. */
export function treeCpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += processTicks(p);
  return (ticks * 1e6) / clockTicks();
}
