// Checks red-flag corpus family files (see test/chat/redflags-corpus/SOURCES.md): shape, codes,
// kinds, varieties, duplicates, sizes. Usage: node scripts/redflags-corpus-check.mjs FILE...
import { readFileSync } from 'node:fs';

const CODES = ['CHEST_PAIN', 'BREATHING_DIFFICULTY', 'STROKE_SIGNS', 'SEVERE_BLEEDING', 'SUICIDAL_OR_SELF_HARM', 'ANAPHYLAXIS', 'SEIZURE', 'LOSS_OF_CONSCIOUSNESS', 'INFANT_FEVER', 'PREGNANCY_BLEEDING', 'SUDDEN_SEVERE_HEADACHE', 'OVERDOSE_OR_POISONING', 'SEPSIS_SIGNS'];
const KINDS = ['positive', 'negated', 'past', 'hypothetical', 'worry', 'mild', 'other-sense', 'everyday'];
const VARIETIES = ['uk-us', 'nigerian-english', 'pidgin', 'indian-english', 'hinglish', 'mixed'];
const problems = [];
const seen = new Map();
const ids = new Set();
const stats = new Map();
for (const file of process.argv.slice(2)) {
  let families;
  try { families = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { problems.push(`${file}: not JSON: ${e.message}`); continue; }
  if (!Array.isArray(families)) { problems.push(`${file}: must be an array`); continue; }
  for (const [i, f] of families.entries()) {
    const where = `${file}#${i} ${f?.id}`;
    if (typeof f?.id !== 'string' || !/^[a-z0-9-]+\/[a-z0-9-]+$/.test(f.id)) problems.push(`${where}: bad id`);
    if (ids.has(f.id)) problems.push(`${where}: duplicate id`); ids.add(f.id);
    if (!CODES.includes(f.code) && f.code !== 'NONE') problems.push(`${where}: bad code ${f.code}`);
    if (!KINDS.includes(f.kind)) problems.push(`${where}: bad kind ${f.kind}`);
    if (!VARIETIES.includes(f.variety)) problems.push(`${where}: bad variety ${f.variety}`);
    if (typeof f.source !== 'string' || f.source.length < 10) problems.push(`${where}: source missing`);
    if (!Array.isArray(f.messages) || f.messages.length < 8 || f.messages.length > 25) problems.push(`${where}: needs 8-25 messages (has ${f.messages?.length})`);
    const s = stats.get(f.code) ?? { messages: 0, positive: 0, lookalike: 0, families: { positive: 0, lookalike: 0 }, kinds: new Set(), varieties: new Map() };
    stats.set(f.code, s);
    s.kinds.add(f.kind);
    if (f.kind === 'positive') { s.families.positive++; s.varieties.set(f.variety, (s.varieties.get(f.variety) ?? 0) + 1); } else s.families.lookalike++;
    for (const [j, m] of (f.messages ?? []).entries()) {
      if (typeof m?.text !== 'string' || !Array.isArray(m.expected)) { problems.push(`${where} message ${j}: needs text and expected`); continue; }
      const key = m.text.toLowerCase().replace(/\s+/g, ' ').trim();
      if (seen.has(key)) problems.push(`${where} message ${j}: duplicate of ${seen.get(key)}: ${m.text}`); else seen.set(key, f.id);
      const words = m.text.trim().split(/\s+/).length;
      if (words < 2 || words > 80) problems.push(`${where} message ${j}: ${words} words`);
      for (const c of m.expected) if (!CODES.includes(c)) problems.push(`${where} message ${j}: unknown code ${c}`);
      if (f.kind === 'positive' && f.code !== 'NONE' && !m.expected.includes(f.code)) problems.push(`${where} message ${j}: positive family message lacks ${f.code}`);
      if (f.kind !== 'positive' && m.expected.includes(f.code)) problems.push(`${where} message ${j}: look-alike labelled with its own code ${f.code}`);
      s.messages++;
      if (f.kind === 'positive') s.positive++; else s.lookalike++;
    }
  }
}
for (const [code, s] of stats) {
  console.log(`${code.padEnd(24)} messages ${String(s.messages).padStart(4)}  positive ${String(s.positive).padStart(4)} (${s.families.positive} fam)  look-alike ${String(s.lookalike).padStart(4)} (${s.families.lookalike} fam)  kinds ${[...s.kinds].join(',')}  positive varieties ${[...s.varieties].map(([v, n]) => `${v}:${n}`).join(' ')}`);
}
console.log(`total messages ${[...stats.values()].reduce((a, s) => a + s.messages, 0)}, families ${ids.size}`);
if (problems.length) { console.log(`\n${problems.length} problems:`); for (const p of problems.slice(0, 80)) console.log(`  ${p}`); process.exitCode = 1; } else console.log('no problems');
