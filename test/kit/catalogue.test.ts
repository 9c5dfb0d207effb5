import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { AnalyticsEvents } from '../../subgraphs/kit/events/analytics.js';
import { BillingEvents } from '../../subgraphs/kit/events/billing.js';
import { InsuranceEvents } from '../../subgraphs/kit/events/insurance.js';
import { catalogueMarkdown, EVENT_CATALOGUE, EVENT_TYPES, eventDefinition, isCatalogued } from '../../subgraphs/kit/events/catalogue.js';
import { ChatEvents } from '../../subgraphs/kit/events/chat.js';
import { DevicesEvents } from '../../subgraphs/kit/events/devices.js';
import { IdentityEvents } from '../../subgraphs/kit/events/identity.js';
import { NurseEvents } from '../../subgraphs/kit/events/nurse.js';
import { TelemedicineEvents } from '../../subgraphs/kit/events/telemedicine.js';
import { TrainingEvents } from '../../subgraphs/kit/events/training.js';

/** The catalogue is the single definition of every event: what the code records and what consumers expect. */
const GROUPS: Record<string, Record<string, unknown>> = { IdentityEvents, TrainingEvents, ChatEvents, NurseEvents, BillingEvents, InsuranceEvents, TelemedicineEvents, DevicesEvents, AnalyticsEvents };
/** A member of a catalogue group, catalogued (an unknown group or member is not). */
const catalogued = (group: string | undefined, member: string | undefined): boolean => {
  const definition = GROUPS[group ?? '']?.[member ?? ''];
  return definition !== undefined && isCatalogued(definition as never);
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'kit' ? [] : sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the event catalogue', () => {
  it('defines each type once, from a subgraph that exists, with a payload schema partners can read', () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_CATALOGUE.length);
    const subgraphs = new Set(SUBGRAPHS.map((s) => s.name));
    for (const definition of EVENT_CATALOGUE) {
      expect(definition.type).toMatch(/^[a-z]+(\.[a-z_]+)+$/);
      expect(subgraphs.has(definition.source)).toBe(true);
      expect(definition.version).toBeGreaterThanOrEqual(1);
      expect(eventDefinition(definition.type)).toBe(definition);
    }
    const page = catalogueMarkdown();
    for (const type of EVENT_TYPES) expect(page).toContain(`## ${type} (v`);
    expect(page).toContain('"type": "object"');
  });

  it('has every consumer of every subgraph subscribed to catalogued types only', () => {
    const consumers = SUBGRAPHS.flatMap((s) => s.consumers ?? []);
    expect(consumers.length).toBeGreaterThan(0);
    for (const consumer of consumers) {
      expect(consumer.handlers.length).toBeGreaterThan(0);
      for (const handler of consumer.handlers) expect(isCatalogued(handler.definition)).toBe(true);
    }
  });

  it('has every event the code records defined in it (each recordEvent names a catalogue definition)', () => {
    const calls = sources('subgraphs').flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/recordEvent\(\s*\w+\s*,\s*([^,]+?)\s*,/g)].map((m) => ({ file, definition: (m[1] as string).trim(), text }));
    });
    expect(calls.length).toBeGreaterThan(10);
    const unresolved = calls.filter(({ definition, text }) => {
      // `TrainingEvents.sessionCompleted`, or a local name bound to catalogue members (`PAID_EVENT[payment.kind]`).
      const direct = /^(\w+Events)\.(\w+)$/.exec(definition);
      if (direct) return !catalogued(direct[1], direct[2]);
      const alias = /^(\w+)/.exec(definition)?.[1] as string;
      const binding = new RegExp(`const ${alias}\\b[^=]*=\\s*\\{([^}]*)\\}`).exec(text)?.[1] ?? '';
      const members = [...binding.matchAll(/(\w+Events)\.(\w+)/g)];
      return members.length === 0 || members.some((m) => !catalogued(m[1], m[2]));
    });
    expect(unresolved.map((c) => `${c.file}: ${c.definition}`)).toEqual([]);
  });

  it('is published for partners (schema/events.md, kept current by npm run compose)', () => {
    expect(readFileSync('schema/events.md', 'utf8')).toBe(catalogueMarkdown());
  });
});
