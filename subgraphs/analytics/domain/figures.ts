/**
 * The arithmetic of the analytics figures: pure functions over rows of the read models, so
 * the definitions can be read (and tested) in one place. Means are rounded to 2 decimals and
 * rates to 4; a figure over nothing is null, never 0.
 */

export const round = (value: number, decimals: number): number => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return round(values.reduce((sum, v) => sum + v, 0) / values.length, 2);
}

/** The middle value; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return round(value, 2);
}

/** Nearest-rank percentile (the smallest value with at least p % of the values at or below it). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? null;
}

export const rate = (part: number, whole: number): number | null => (whole === 0 ? null : round(part / whole, 4));

// ---------------------------------------------------------------- training

export interface SubScoreFact {
  section: string;
  score: number | null;
}

export interface FlagFact {
  code: string;
  severity: string;
}

export interface SessionFacts {
  learnerId: string;
  caseId: string | null;
  completed: boolean;
  totalScore: number | null;
  subScores: SubScoreFact[];
  flaggedErrors: FlagFact[];
}

export interface ScoreBucket {
  min: number;
  max: number;
  sessions: number;
}

export interface CaseFigures {
  caseId: string;
  attempts: number;
  completed: number;
  meanTotalScore: number | null;
}

export interface SubScoreFigures {
  section: string;
  meanScore: number | null;
  sessions: number;
}

export interface FlaggedErrorFigures {
  code: string;
  severity: string;
  sessions: number;
  rate: number;
}

export interface CohortFigures {
  enrolled: number;
  /** Learners with at least one session in the range. */
  started: number;
  /** Learners with at least one completed session in the range. */
  completed: number;
  completionRate: number | null;
  sessionsStarted: number;
  sessionsCompleted: number;
  meanTotalScore: number | null;
  medianTotalScore: number | null;
  scoreDistribution: ScoreBucket[];
  cases: CaseFigures[];
  subScores: SubScoreFigures[];
  /** Safety first, then critical, then minor; more sessions first within a severity. */
  flaggedErrors: FlaggedErrorFigures[];
}

/** Ten buckets of total score: 0–9, 10–19, …, 80–89 and 90–100. */
export const SCORE_BUCKETS: ReadonlyArray<{ min: number; max: number }> = Array.from({ length: 10 }, (_, i) => ({ min: i * 10, max: i === 9 ? 100 : i * 10 + 9 }));

const bucketOf = (score: number): number => Math.min(9, Math.max(0, Math.floor(score / 10)));

export const SEVERITY_RANK: Record<string, number> = { safety: 0, critical: 1, minor: 2 };
const severityRank = (severity: string): number => SEVERITY_RANK[severity] ?? 3;

/**
 * A cohort's figures from its enrolment count and its sessions (those that started in the
 * range, in start order). Scores are those of completed sessions; a learner counts as started
 * or completed once however many sessions they had.
 */
export function cohortFigures(enrolled: number, sessions: readonly SessionFacts[]): CohortFigures {
  const completedSessions = sessions.filter((s) => s.completed && s.totalScore !== null);
  const totals = completedSessions.map((s) => s.totalScore as number);
  const learnersCompleted = new Set(sessions.filter((s) => s.completed).map((s) => s.learnerId)).size;

  const buckets = SCORE_BUCKETS.map((b) => ({ ...b, sessions: 0 }));
  for (const total of totals) (buckets[bucketOf(total)] as ScoreBucket).sessions += 1;

  const byCase = new Map<string, SessionFacts[]>();
  for (const session of sessions) {
    if (!session.caseId) continue;
    const attempts = byCase.get(session.caseId) ?? [];
    attempts.push(session);
    byCase.set(session.caseId, attempts);
  }
  const cases = [...byCase].map(([caseId, attempts]): CaseFigures => {
    const scored = attempts.filter((s) => s.completed && s.totalScore !== null).map((s) => s.totalScore as number);
    return { caseId, attempts: attempts.length, completed: attempts.filter((s) => s.completed).length, meanTotalScore: mean(scored) };
  }).sort((a, b) => b.attempts - a.attempts || a.caseId.localeCompare(b.caseId));

  // Sections in the order the score cards list them (first seen), each over the sessions that scored it.
  const sectionScores = new Map<string, number[]>();
  for (const session of completedSessions) {
    for (const sub of session.subScores) {
      const scores = sectionScores.get(sub.section) ?? [];
      if (sub.score !== null) scores.push(sub.score);
      sectionScores.set(sub.section, scores);
    }
  }
  const subScores = [...sectionScores].map(([section, scores]) => ({ section, meanScore: mean(scores), sessions: scores.length }));

  const flags = new Map<string, { severity: string; sessions: number }>();
  for (const session of completedSessions) {
    // A code flagged twice in one session counts once: the figure is sessions with the error.
    for (const flag of new Map(session.flaggedErrors.map((f) => [f.code, f])).values()) {
      const entry = flags.get(flag.code) ?? { severity: flag.severity, sessions: 0 };
      entry.sessions += 1;
      flags.set(flag.code, entry);
    }
  }
  const flaggedErrors = [...flags]
    .map(([code, { severity, sessions: count }]) => ({ code, severity, sessions: count, rate: rate(count, completedSessions.length) ?? 0 }))
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.sessions - a.sessions || a.code.localeCompare(b.code));

  return {
    enrolled,
    started: new Set(sessions.map((s) => s.learnerId)).size,
    completed: learnersCompleted,
    completionRate: rate(learnersCompleted, enrolled),
    sessionsStarted: sessions.length,
    sessionsCompleted: sessions.filter((s) => s.completed).length,
    meanTotalScore: mean(totals),
    medianTotalScore: median(totals),
    scoreDistribution: buckets,
    cases,
    subScores,
    flaggedErrors,
  };
}

// ---------------------------------------------------------------- nurse queue

export interface QueueEntryFacts {
  source: string;
  initialUrgency: string;
  status: string;
  createdAt: Date;
  slaDueAt: Date;
  firstActionAt: Date | null;
  closedAt: Date | null;
  escalated: boolean;
}

export interface QueueFigures {
  entries: number;
  byUrgency: Array<{ urgency: string; entries: number }>;
  bySource: Array<{ source: string; entries: number }>;
  pickedUp: number;
  closed: number;
  escalated: number;
  stillOpen: number;
  medianWaitSeconds: number | null;
  p90WaitSeconds: number | null;
  slaBreaches: number;
  slaBreachRate: number | null;
}

const URGENCY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

function volumes(values: readonly string[], order: readonly string[] = []): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  const rank = (key: string): number => (order.includes(key) ? order.indexOf(key) : order.length);
  return [...counts].sort(([a, x], [b, y]) => rank(a) - rank(b) || y - x || a.localeCompare(b));
}

/**
 * The queue over entries created in a window: volumes by the urgency they arrived with and by
 * source; the wait is from arrival to the first nurse action (entries not yet picked up have
 * no wait yet); an SLA breach is a first action after the due time, or none by `now` past it.
 */
export function queueFigures(entries: readonly QueueEntryFacts[], now: Date): QueueFigures {
  const waits = entries.filter((e) => e.firstActionAt).map((e) => Math.round(((e.firstActionAt as Date).getTime() - e.createdAt.getTime()) / 1000));
  const breaches = entries.filter((e) => (e.firstActionAt ?? now).getTime() > e.slaDueAt.getTime()).length;
  const closed = entries.filter((e) => e.closedAt !== null).length;
  const medianWait = median(waits);
  return {
    entries: entries.length,
    byUrgency: volumes(entries.map((e) => e.initialUrgency), URGENCY_ORDER).map(([urgency, count]) => ({ urgency, entries: count })),
    bySource: volumes(entries.map((e) => e.source)).map(([source, count]) => ({ source, entries: count })),
    pickedUp: waits.length,
    closed,
    escalated: entries.filter((e) => e.escalated).length,
    stillOpen: entries.length - closed,
    medianWaitSeconds: medianWait === null ? null : Math.round(medianWait),
    p90WaitSeconds: percentile(waits, 90),
    slaBreaches: breaches,
    slaBreachRate: rate(breaches, entries.length),
  };
}

// ---------------------------------------------------------------- training activity

export interface TrainingActivity {
  sessionsStarted: number;
  sessionsCompleted: number;
  activeLearners: number;
  meanTotalScore: number | null;
  /** Completed sessions with at least one safety error. */
  sessionsWithSafetyErrors: number;
}

/** Sessions started in the window and, separately, sessions completed in it. */
export function trainingActivity(started: ReadonlyArray<{ learnerId: string }>, completed: ReadonlyArray<{ learnerId: string; totalScore: number | null; flaggedErrors: FlagFact[] }>): TrainingActivity {
  return {
    sessionsStarted: started.length,
    sessionsCompleted: completed.length,
    activeLearners: new Set([...started, ...completed].map((s) => s.learnerId)).size,
    meanTotalScore: mean(completed.flatMap((s) => (s.totalScore === null ? [] : [s.totalScore]))),
    sessionsWithSafetyErrors: completed.filter((s) => s.flaggedErrors.some((f) => f.severity === 'safety')).length,
  };
}

// ---------------------------------------------------------------- billing

export interface MoneyMovementFacts {
  kind: string;
  amount: number;
  currency: string;
}

export interface MoneyTotal {
  currency: string;
  /** Minor units. */
  amount: number;
}

export interface BillingFigures {
  paymentsSucceeded: number;
  collected: MoneyTotal[];
  refundsIssued: number;
  refunded: MoneyTotal[];
  /** Collected less refunded, per currency. */
  net: MoneyTotal[];
}

const byCurrency = (movements: readonly MoneyMovementFacts[]): MoneyTotal[] => {
  const totals = new Map<string, number>();
  for (const m of movements) totals.set(m.currency, (totals.get(m.currency) ?? 0) + m.amount);
  return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount }));
};

export function billingFigures(movements: readonly MoneyMovementFacts[]): BillingFigures {
  const payments = movements.filter((m) => m.kind !== 'REFUND');
  const refunds = movements.filter((m) => m.kind === 'REFUND');
  const collected = byCurrency(payments);
  const refunded = byCurrency(refunds);
  const currencies = [...new Set([...collected, ...refunded].map((t) => t.currency))].sort();
  const amountIn = (totals: MoneyTotal[], currency: string): number => totals.find((t) => t.currency === currency)?.amount ?? 0;
  return {
    paymentsSucceeded: payments.length,
    collected,
    refundsIssued: refunds.length,
    refunded,
    net: currencies.map((currency) => ({ currency, amount: amountIn(collected, currency) - amountIn(refunded, currency) })),
  };
}

export interface ClaimFacts {
  submittedAt: Date | null;
  adjudication: string | null;
  adjudicatedAt: Date | null;
  paidAt: Date | null;
}

export interface ClaimsFigures {
  /** Claims sent in the window. */
  submitted: number;
  /** Adjudicated in the window, approved in full or in part. */
  approved: number;
  denied: number;
  /** Denied over adjudicated in the window; null when none was. */
  denialRate: number | null;
  /** Claims paid in the window. */
  paid: number;
  /** Mean days from sending to payment, over claims paid in the window (null when none was). */
  meanDaysToPayment: number | null;
}

/** Claims figures over a window: `sent`, `adjudicated` and `paid` are the claims whose step fell in it. */
export function claimsFigures(sent: readonly ClaimFacts[], adjudicated: readonly ClaimFacts[], paid: readonly ClaimFacts[]): ClaimsFigures {
  const denied = adjudicated.filter((claim) => claim.adjudication === 'DENIED').length;
  const days = paid.flatMap((claim) => (claim.submittedAt && claim.paidAt ? [(claim.paidAt.getTime() - claim.submittedAt.getTime()) / 86_400_000] : []));
  return {
    submitted: sent.length,
    approved: adjudicated.length - denied,
    denied,
    denialRate: adjudicated.length ? denied / adjudicated.length : null,
    paid: paid.length,
    meanDaysToPayment: days.length ? Math.round((days.reduce((sum, value) => sum + value, 0) / days.length) * 100) / 100 : null,
  };
}
