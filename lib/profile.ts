// Where a run of the program spends its time, for `make bench` (PGR_PROFILE=1): each phase's
// seconds, from the node process's start, logged once at the end as one info line.
const phases: [string, number][] = [];
let last = 0;

/** Ends the phase running since the previous mark (or since the process started). */
export function mark(phase: string): void {
  const now = process.uptime();
  phases.push([phase, now - last]);
  last = now;
}

/** "profile: start 1.20 s, observe 0.80 s, …", or undefined when profiling is off. */
export function profileLine(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PGR_PROFILE !== "1") return undefined;
  return `profile: ${phases.map(([p, s]) => `${p} ${s.toFixed(2)} s`).join(", ")}`;
}
