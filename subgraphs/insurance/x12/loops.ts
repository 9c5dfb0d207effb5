import { element, type Segment, type X12Issue } from './syntax.js';

/**
 * The loops of a transaction set, as the 5010 implementation guides (TR3s) name them: a loop
 * starts at its trigger segment and holds what follows until a segment starts a sibling, an
 * ancestor's sibling, or (for bracketed loops such as LS … LE) its closing segment.
 *
 * Hierarchical transactions (270/271, 276/277, 837) are also a tree through HL: HL01 is the
 * level's id, HL02 its parent's, HL03 the level code. `hierarchy` gives that tree; loops give
 * the nesting inside each level.
 */
export interface Loop {
  /** The TR3 loop id (2000A, 2010BA, 2300, 2110C…), or `header` / `summary`. */
  id: string;
  segments: Segment[];
  loops: Loop[];
}

interface LoopSpec {
  /** The loop id for the segment that starts it, or undefined when this segment does not. */
  starts(segment: Segment): string | undefined;
  /** A bracketed loop ends at this segment (included), and nothing inside it starts other loops. */
  closedBy?: string;
  loops?: LoopSpec[];
}

const is = (id: string, loopId: string | ((segment: Segment) => string | undefined)) => (segment: Segment): string | undefined =>
  segment.id === id ? (typeof loopId === 'string' ? loopId : loopId(segment)) : undefined;

/** HL by level code (HL03) → loop id. */
const hl = (levels: Record<string, string>) => (segment: Segment): string | undefined =>
  segment.id === 'HL' ? levels[element(segment, 3)] : undefined;

/** An HL whose level code the guide does not use here: still a level of its own. */
const otherLevel: LoopSpec = { starts: (segment) => (segment.id === 'HL' ? `2000(${element(segment, 3)})` : undefined) };

/** NM1 by entity identifier (NM101) → loop id; others get the fallback. */
const nm1 = (entities: Record<string, string>, fallback: string) => (segment: Segment): string | undefined =>
  segment.id === 'NM1' ? (entities[element(segment, 1)] ?? fallback) : undefined;

const claim837: LoopSpec = {
  starts: is('CLM', '2300'),
  loops: [
    { starts: nm1({ DN: '2310A', P3: '2310A', '82': '2310B', '71': '2310A', '72': '2310B', ZZ: '2310C', '77': '2310C', '78': '2310D', DQ: '2310D', QB: '2310E', '85': '2310E', PW: '2310E', '45': '2310F', FA: '2310F' }, '2310') },
    {
      starts: is('SBR', '2320'),
      loops: [{ starts: nm1({ IL: '2330A', PR: '2330B', DN: '2330C', '82': '2330D', '77': '2330E', DQ: '2330F', '85': '2330G' }, '2330') }],
    },
    {
      starts: is('LX', '2400'),
      loops: [
        { starts: is('LIN', '2410') },
        { starts: nm1({ '82': '2420A', QB: '2420B', '77': '2420C', DQ: '2420D', DK: '2420E', DN: '2420F', PR: '2420G', '71': '2420A', '72': '2420B', ZZ: '2420C' }, '2420') },
        { starts: is('SVD', '2430') },
        { starts: is('LQ', '2440') },
      ],
    },
  ],
};

const SPECS: Record<string, LoopSpec[]> = {
  '837': [
    { starts: nm1({ '41': '1000A', '40': '1000B' }, '1000') },
    { starts: hl({ '20': '2000A' }), loops: [{ starts: nm1({ '85': '2010AA', '87': '2010AB', PE: '2010AC' }, '2010A') }] },
    { starts: hl({ '22': '2000B' }), loops: [{ starts: nm1({ IL: '2010BA', PR: '2010BB' }, '2010B') }, claim837] },
    { starts: hl({ '23': '2000C' }), loops: [{ starts: nm1({ QC: '2010CA' }, '2010C') }, claim837] },
    otherLevel,
  ],
  ...eligibility('270', 'EQ'),
  ...eligibility('271', 'EB'),
  ...claimStatus('276'),
  ...claimStatus('277'),
  '835': [
    { starts: (segment) => (segment.id === 'N1' ? (element(segment, 1) === 'PR' ? '1000A' : element(segment, 1) === 'PE' ? '1000B' : '1000') : undefined) },
    {
      starts: is('LX', '2000'),
      loops: [{ starts: is('CLP', '2100'), loops: [{ starts: is('SVC', '2110') }] }],
    },
    { starts: is('PLB', 'summary') },
  ],
  '999': [
    {
      starts: is('AK2', '2000'),
      loops: [{ starts: is('IK3', '2100'), loops: [{ starts: is('IK4', '2110') }] }],
    },
    { starts: is('AK9', 'summary') },
  ],
};

function eligibility(type: '270' | '271', benefit: 'EQ' | 'EB'): Record<string, LoopSpec[]> {
  const benefits = (level: 'C' | 'D'): LoopSpec => ({
    starts: is(benefit, `2110${level}`),
    loops: [{ starts: is('LS', `2120${level}`), closedBy: 'LE' }],
  });
  return {
    [type]: [
      { starts: hl({ '20': '2000A' }), loops: [{ starts: is('NM1', '2100A') }] },
      { starts: hl({ '21': '2000B' }), loops: [{ starts: is('NM1', '2100B') }] },
      { starts: hl({ '22': '2000C' }), loops: [{ starts: is('NM1', '2100C'), loops: [benefits('C')] }] },
      { starts: hl({ '23': '2000D' }), loops: [{ starts: is('NM1', '2100D'), loops: [benefits('D')] }] },
      otherLevel,
    ],
  };
}

function claimStatus(type: '276' | '277'): Record<string, LoopSpec[]> {
  const level = (hlCode: string, loop: string, letter: string): LoopSpec => ({
    starts: hl({ [hlCode]: loop }),
    loops: [
      { starts: is('NM1', `2100${letter}`) },
      { starts: is('TRN', `2200${letter}`), loops: [{ starts: is('SVC', `2220${letter}`) }] },
    ],
  });
  return {
    [type]: [
      level('20', '2000A', 'A'),
      level('21', '2000B', 'B'),
      level('19', '2000C', 'C'),
      level('22', '2000D', 'D'),
      // 277CA names the patient level PT; 276/277 put a dependent at 23.
      level('PT', '2000D', 'D'),
      level('23', '2000E', 'E'),
      otherLevel,
    ],
  };
}

/** The loop tree of a transaction set's body (the segments between ST and SE). */
export function readLoops(type: string, body: Segment[]): Loop {
  const root: Loop = { id: 'header', segments: [], loops: [] };
  const specs = SPECS[type];
  if (!specs) {
    root.segments.push(...body);
    return root;
  }
  // The open loops from the root down, each with the specs its children may start from.
  const stack: Array<{ loop: Loop; children: LoopSpec[]; closedBy?: string }> = [{ loop: root, children: specs }];
  for (const segment of body) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    if (top.closedBy) {
      top.loop.segments.push(segment);
      if (segment.id === top.closedBy) stack.pop();
      continue;
    }
    let placed = false;
    // The innermost open loop whose children may start here wins (deepest first).
    for (let depth = stack.length - 1; depth >= 0 && !placed; depth--) {
      const open = stack[depth] as (typeof stack)[number];
      for (const spec of open.children) {
        const id = spec.starts(segment);
        if (id === undefined) continue;
        const loop: Loop = { id, segments: [segment], loops: [] };
        open.loop.loops.push(loop);
        stack.length = depth + 1;
        stack.push({ loop, children: spec.loops ?? [], ...(spec.closedBy ? { closedBy: spec.closedBy } : {}) });
        placed = true;
        break;
      }
    }
    if (!placed) top.loop.segments.push(segment);
  }
  return root;
}

/** One level of an HL hierarchy with the loops it holds. */
export interface HierarchyLevel {
  id: string;
  parentId: string;
  /** HL03: 20 information source / billing provider, 21 receiver, 19 provider, 22 subscriber, 23 dependent, PT patient. */
  levelCode: string;
  hasChildren: boolean;
  loop: Loop;
}

/** The HL levels of a loop tree, in file order (the tree is the ids and parent ids). */
export function hierarchy(root: Loop): HierarchyLevel[] {
  return root.loops
    .filter((loop) => loop.segments[0]?.id === 'HL')
    .map((loop) => {
      const segment = loop.segments[0] as Segment;
      return { id: element(segment, 1), parentId: element(segment, 2), levelCode: element(segment, 3), hasChildren: element(segment, 4) === '1', loop };
    });
}

/**
 * The HL tree's own rules: ids unique, each parent an earlier level, HL04 saying truly whether
 * children follow. Reported, not repaired: the levels are still read in file order.
 */
export function checkHierarchy(levels: HierarchyLevel[], issues: X12Issue[]): void {
  const seen = new Set<string>();
  const parents = new Set(levels.map((level) => level.parentId).filter((id) => id !== ''));
  for (const level of levels) {
    const hl = level.loop.segments[0] as Segment;
    const at = { segmentId: 'HL', position: hl.position };
    if (seen.has(level.id)) issues.push({ severity: 'error', code: 'DUPLICATE_HL_ID', message: `HL01 "${level.id}" is used by an earlier level`, element: 1, ...at });
    if (level.parentId !== '' && !seen.has(level.parentId)) issues.push({ severity: 'error', code: 'UNKNOWN_HL_PARENT', message: `HL02 "${level.parentId}" is not the id of an earlier level`, element: 2, ...at });
    if (level.hasChildren && !parents.has(level.id)) issues.push({ severity: 'warning', code: 'HL_CHILD_CODE', message: `HL04 says level ${level.id} has children; none names it as parent`, element: 4, ...at });
    seen.add(level.id);
  }
}

/** Every loop of the tree, depth first (the root first). */
export function* allLoops(root: Loop): Generator<Loop> {
  yield root;
  for (const loop of root.loops) yield* allLoops(loop);
}

/** The loop's own segments and those of every loop inside it, in file order. */
export function segmentsOf(loop: Loop): Segment[] {
  const result: Segment[] = [];
  const visit = (current: Loop): void => {
    // A loop's own segments come first: children start after its trigger and the segments before them.
    const own = [...current.segments];
    const children = [...current.loops];
    while (own.length || children.length) {
      const nextOwn = own[0];
      const nextChild = children[0]?.segments[0];
      if (nextOwn && (!nextChild || nextOwn.position.segment < nextChild.position.segment)) result.push(own.shift() as Segment);
      else visit(children.shift() as Loop);
    }
  };
  visit(loop);
  return result;
}
