/**
 * Trends computed in the browser from the event log (GET /v1/events): conflicts opened per day
 * per team, claims granted per repository, and the median time claims were held per day.
 * Pure: unit-tested in test/dashboard/trends.test.ts.
 */

export interface TrendEvent {
  id: string;
  type: string;
  time: string;
  repo: string | null;
  payload: Record<string, unknown>;
}

export interface TrendsInput {
  /** Local midnight of the first day, and the end of the range (ms since epoch). */
  from: number;
  to: number;
  conflicts: TrendEvent[];
  claims: TrendEvent[];
  /** Team names of a user; a user in no team counts under "No team". */
  teamsOf(userId: string): string[];
}

export interface Trends {
  /** Local midnight of each day in the range. */
  days: number[];
  /** Conflicts opened per day, one series per team (busiest first), a conflict counting once per team involved. */
  conflictsByTeam: { team: string; counts: number[]; total: number }[];
  /** Claims granted in the range, by repository, busiest first. */
  claimsByRepo: { repo: string; count: number }[];
  /** Median minutes between grant and end of the claims that ended that day (null: none ended). */
  medianMinutesByDay: (number | null)[];
  /** Over the whole range. */
  medianMinutes: number | null;
  /** Claims whose end was seen in the range with their grant (those measured). */
  measuredClaims: number;
}

export const NO_TEAM = "No team";
const ENDINGS = new Set(["claim.released", "claim.expired", "claim.broken"]);

export function dayStarts(from: number, to: number): number[] {
  const days: number[] = [];
  const d = new Date(from);
  d.setHours(0, 0, 0, 0);
  while (d.getTime() <= to) {
    days.push(d.getTime());
    d.setDate(d.getDate() + 1); // calendar days, whatever the DST shift
  }
  return days;
}

/** Index of the day containing t (days ascending), or -1 outside the range. */
export function dayIndex(days: number[], t: number): number {
  let lo = 0;
  let hi = days.length - 1;
  if (hi < 0 || t < days[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (days[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function computeTrends(input: TrendsInput): Trends {
  const days = dayStarts(input.from, input.to);

  const perTeam = new Map<string, number[]>();
  for (const e of input.conflicts) {
    if (e.type !== "conflict.opened") continue;
    const i = dayIndex(days, Date.parse(e.time));
    if (i < 0) continue;
    const teams = new Set<string>();
    for (const key of ["userId", "otherUserId"]) {
      const user = e.payload[key];
      if (typeof user !== "string") continue;
      const names = input.teamsOf(user);
      if (names.length === 0) teams.add(NO_TEAM);
      for (const t of names) teams.add(t);
    }
    for (const team of teams) {
      let counts = perTeam.get(team);
      if (!counts) perTeam.set(team, (counts = new Array<number>(days.length).fill(0)));
      counts[i]!++;
    }
  }
  const conflictsByTeam = [...perTeam.entries()]
    .map(([team, counts]) => ({ team, counts, total: counts.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.team.localeCompare(b.team));

  const perRepo = new Map<string, number>();
  const grantedAt = new Map<string, number>();
  const durationsByDay: number[][] = days.map(() => []);
  const all: number[] = [];
  for (const e of input.claims) {
    const t = Date.parse(e.time);
    if (e.type === "claim.granted") {
      if (e.repo) perRepo.set(e.repo, (perRepo.get(e.repo) ?? 0) + 1);
      const id = e.payload.claimId;
      if (typeof id === "string") grantedAt.set(id, t);
    } else if (ENDINGS.has(e.type)) {
      const id = e.payload.claimId;
      const start = typeof id === "string" ? grantedAt.get(id) : undefined;
      if (start === undefined) continue; // granted before the range: its length is unknown here
      const i = dayIndex(days, t);
      if (i < 0) continue;
      const minutes = (t - start) / 60_000;
      durationsByDay[i]!.push(minutes);
      all.push(minutes);
    }
  }
  const claimsByRepo = [...perRepo.entries()]
    .map(([repo, count]) => ({ repo, count }))
    .sort((a, b) => b.count - a.count || a.repo.localeCompare(b.repo));

  return {
    days,
    conflictsByTeam,
    claimsByRepo,
    medianMinutesByDay: durationsByDay.map(median),
    medianMinutes: median(all),
    measuredClaims: all.length,
  };
}
