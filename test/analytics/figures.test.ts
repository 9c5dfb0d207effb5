import { billingFigures, cohortFigures, mean, median, percentile, queueFigures, type SessionFacts } from '../../subgraphs/analytics/domain/figures.js';

/** The definitions behind the figures, on small hand-checked inputs. */
describe('statistics', () => {
  it('rounds means, takes the middle pair for an even median, and ranks percentiles', () => {
    expect(mean([1, 2, 2])).toBe(1.67);
    expect(mean([])).toBeNull();
    expect(median([40, 10, 30])).toBe(30);
    expect(median([40, 10, 30, 15])).toBe(22.5);
    expect(median([])).toBeNull();
    expect(percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
  });
});

const session = (learnerId: string, total: number | null, extra: Partial<SessionFacts> = {}): SessionFacts => ({
  learnerId, caseId: 'a', completed: total !== null, totalScore: total, subScores: [], flaggedErrors: [], ...extra,
});

describe('cohort figures', () => {
  it('counts learners once, puts scores in ten buckets with 100 in the last, and rates completion against enrolment', () => {
    const figures = cohortFigures(4, [session('l1', 9), session('l1', 10), session('l2', 90), session('l2', 100), session('l3', null)]);
    expect(figures).toMatchObject({ enrolled: 4, started: 3, completed: 2, completionRate: 0.5, sessionsStarted: 5, sessionsCompleted: 4, meanTotalScore: 52.25, medianTotalScore: 50 });
    expect(figures.scoreDistribution.map((b) => b.sessions)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(figures.scoreDistribution.at(-1)).toEqual({ min: 90, max: 100, sessions: 2 });
    expect(cohortFigures(0, []).completionRate).toBeNull();
  });

  it('lists safety errors first however rare, counts an error once per session, and skips unscored sections in means', () => {
    const flagged = (codes: Array<[string, string]>) => codes.map(([code, severity]) => ({ code, severity }));
    const figures = cohortFigures(3, [
      session('l1', 50, { flaggedErrors: flagged([['MINOR_A', 'minor'], ['MINOR_A', 'minor'], ['CRIT', 'critical']]), subScores: [{ section: 'history', score: 40 }, { section: 'safety', score: null }] }),
      session('l2', 60, { flaggedErrors: flagged([['MINOR_A', 'minor'], ['CRIT', 'critical']]), subScores: [{ section: 'history', score: 60 }, { section: 'safety', score: 100 }] }),
      session('l3', 70, { caseId: 'b', flaggedErrors: flagged([['SAFE', 'safety']]) }),
    ]);
    expect(figures.flaggedErrors).toEqual([
      { code: 'SAFE', severity: 'safety', sessions: 1, rate: 0.3333 },
      { code: 'CRIT', severity: 'critical', sessions: 2, rate: 0.6667 },
      { code: 'MINOR_A', severity: 'minor', sessions: 2, rate: 0.6667 },
    ]);
    expect(figures.subScores).toEqual([{ section: 'history', meanScore: 50, sessions: 2 }, { section: 'safety', meanScore: 100, sessions: 1 }]);
    expect(figures.cases).toEqual([{ caseId: 'a', attempts: 2, completed: 2, meanTotalScore: 55 }, { caseId: 'b', attempts: 1, completed: 1, meanTotalScore: 70 }]);
  });
});

describe('queue figures', () => {
  const at = (minutes: number): Date => new Date(Date.UTC(2026, 2, 1, 8, minutes));
  const entry = (urgency: string, due: number, firstAction: number | null, status = 'WAITING') => ({
    source: 'MANUAL', initialUrgency: urgency, status, createdAt: at(0), slaDueAt: at(due), firstActionAt: firstAction === null ? null : at(firstAction),
    closedAt: status === 'APPROVED' ? at(30) : null, escalated: false,
  });

  it('waits until the first action, breaches when it came late or never came by now', () => {
    const figures = queueFigures([entry('LOW', 60, 10, 'APPROVED'), entry('CRITICAL', 5, 6), entry('HIGH', 15, null), entry('HIGH', 600, null)], at(120));
    expect(figures).toMatchObject({ entries: 4, pickedUp: 2, closed: 1, stillOpen: 3, medianWaitSeconds: 480, p90WaitSeconds: 600, slaBreaches: 2, slaBreachRate: 0.5 });
    expect(figures.byUrgency).toEqual([{ urgency: 'CRITICAL', entries: 1 }, { urgency: 'HIGH', entries: 2 }, { urgency: 'LOW', entries: 1 }]);
  });
});

describe('billing figures', () => {
  it('nets refunds against collections per currency, a refund in a currency with no payment included', () => {
    expect(billingFigures([{ kind: 'DEPOSIT', amount: 100, currency: 'USD' }, { kind: 'REFUND', amount: 30, currency: 'USD' }, { kind: 'REFUND', amount: 5, currency: 'INR' }]).net)
      .toEqual([{ currency: 'INR', amount: -5 }, { currency: 'USD', amount: 70 }]);
  });
});
