import type { Bundle, Resource } from 'fhir/r4.js';
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { COMPARATORS, CURRENCIES, RESOURCE_RULES } from './rules.js';

/**
 * FHIR R4 JSON read at CareGraph's boundary: parsed without losing how decimals were written
 * (135.50 stays "135.50" in money, not the float 135.5), checked against the R4 rules in
 * rules.ts (required elements, required code bindings, ISO 4217 currencies, comparators,
 * local `#id` references that must name a contained resource, no nested contained), and
 * normalized for reading with local references resolved. Problems are listed with their
 * FHIR path (Claim.item[0].net.currency), never thrown.
 */
export interface FhirIssue {
  severity: 'error' | 'warning';
  code: string;
  /** Where: a FHIRPath-like location from the root resource, e.g. `Claim.insurance[0].coverage`. */
  path: string;
  message: string;
}

export interface FhirDocument {
  valid: boolean;
  /** The resource as R4 types (numbers as numbers); undefined when the text is not a resource. */
  resource: Resource | undefined;
  /** Each decimal as written, by path (`Claim.item[0].net.value` → "135.57"). */
  decimals: ReadonlyMap<string, string>;
  issues: FhirIssue[];
}

type Json = Record<string, unknown>;

export function readFhir(text: string): FhirDocument {
  const issues: FhirIssue[] = [];
  let parsed: unknown;
  try {
    parsed = parseLossless(text);
  } catch (error) {
    issues.push({ severity: 'error', code: 'INVALID_JSON', path: '', message: (error as Error).message });
    return { valid: false, resource: undefined, decimals: new Map(), issues };
  }
  if (!isObject(parsed) || typeof parsed['resourceType'] !== 'string') {
    issues.push({ severity: 'error', code: 'NOT_A_RESOURCE', path: '', message: 'the JSON is not a FHIR resource (an object with a resourceType)' });
    return { valid: false, resource: undefined, decimals: new Map(), issues };
  }
  const decimals = new Map<string, string>();
  const resource = plain(parsed, parsed['resourceType'], decimals) as Resource;
  checkResource(resource as unknown as Json, resource.resourceType, issues, { contained: false });
  return { valid: !issues.some((issue) => issue.severity === 'error'), resource, decimals, issues };
}

/** Lossless numbers back to numbers, recording each one's written text by path. */
function plain(value: unknown, path: string, decimals: Map<string, string>): unknown {
  if (isLosslessNumber(value)) {
    const written = String(value);
    decimals.set(path, written);
    return Number(written);
  }
  if (Array.isArray(value)) return value.map((item, index) => plain(item, `${path}[${index}]`, decimals));
  if (isObject(value)) {
    const out: Json = {};
    for (const [key, item] of Object.entries(value)) out[key] = plain(item, `${path}.${key}`, decimals);
    return out;
  }
  return value;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;

function checkResource(resource: Json, path: string, issues: FhirIssue[], where: { contained: boolean }): void {
  const type = resource['resourceType'] as string;
  const error = (at: string, code: string, message: string) => issues.push({ severity: 'error', code, path: at, message });
  const id = resource['id'];
  if (id !== undefined && (typeof id !== 'string' || !ID.test(id))) error(`${path}.id`, 'INVALID_ID', `"${String(id)}" is not a FHIR id (1–64 of A–Z a–z 0–9 - .)`);
  if (where.contained && id === undefined) error(path, 'CONTAINED_WITHOUT_ID', 'a contained resource must have an id to be referenced');

  const rules = RESOURCE_RULES[type];
  if (!rules) {
    issues.push({ severity: 'warning', code: 'UNCHECKED_RESOURCE_TYPE', path, message: `${type} is read as is: CareGraph has no rules for it` });
  } else {
    for (const element of rules.required) {
      const value = resource[element];
      if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) error(`${path}.${element}`, 'REQUIRED', `${type}.${element} is required`);
    }
    for (const [element, allowed] of Object.entries(rules.codes)) {
      const value = resource[element];
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      values.forEach((code, index) => {
        const at = Array.isArray(value) ? `${path}.${element}[${index}]` : `${path}.${element}`;
        if (typeof code !== 'string' || !allowed.includes(code)) error(at, 'CODE_NOT_IN_REQUIRED_BINDING', `"${String(code)}" is not one of ${allowed.join(', ')}`);
      });
    }
  }

  const contained = Array.isArray(resource['contained']) ? (resource['contained'] as unknown[]) : [];
  const containedIds = new Set<string>();
  contained.forEach((item, index) => {
    const at = `${path}.contained[${index}]`;
    if (!isObject(item) || typeof item['resourceType'] !== 'string') {
      error(at, 'NOT_A_RESOURCE', 'a contained entry must be a resource');
      return;
    }
    if (where.contained || item['contained'] !== undefined) error(at, 'NESTED_CONTAINED', 'contained resources cannot contain resources (dom-2)');
    if (typeof item['id'] === 'string') containedIds.add(item['id']);
    checkResource(item, at, issues, { contained: true });
  });

  if (type === 'Bundle') {
    const entries = Array.isArray(resource['entry']) ? (resource['entry'] as unknown[]) : [];
    entries.forEach((entry, index) => {
      const at = `${path}.entry[${index}]`;
      const inner = isObject(entry) ? entry['resource'] : undefined;
      if (inner === undefined) return;
      if (!isObject(inner) || typeof inner['resourceType'] !== 'string') error(`${at}.resource`, 'NOT_A_RESOURCE', 'an entry resource must be a resource');
      else checkResource(inner, `${at}.resource`, issues, { contained: false });
    });
  }
  checkElements(resource, path, issues, containedIds, new Set(['contained', 'entry']));
}

/** Data types anywhere in the resource: Money, Quantity, local references, dates. */
function checkElements(value: unknown, path: string, issues: FhirIssue[], containedIds: ReadonlySet<string>, skip: ReadonlySet<string> = new Set()): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkElements(item, `${path}[${index}]`, issues, containedIds));
    return;
  }
  if (!isObject(value)) return;
  const error = (at: string, code: string, message: string) => issues.push({ severity: 'error', code, path: at, message });
  if (typeof value['currency'] === 'string' && !CURRENCIES.has(value['currency'])) error(`${path}.currency`, 'UNKNOWN_CURRENCY', `"${value['currency']}" is not an ISO 4217 currency code`);
  if (value['currency'] !== undefined && value['value'] !== undefined && typeof value['value'] !== 'number') error(`${path}.value`, 'NOT_A_DECIMAL', 'a Money value must be a JSON number');
  if (typeof value['comparator'] === 'string' && !COMPARATORS.has(value['comparator'])) error(`${path}.comparator`, 'CODE_NOT_IN_REQUIRED_BINDING', `"${value['comparator']}" is not one of <, <=, >=, >`);
  const reference = value['reference'];
  if (typeof reference === 'string' && reference.startsWith('#') && reference !== '#' && !containedIds.has(reference.slice(1))) {
    error(`${path}.reference`, 'UNRESOLVED_LOCAL_REFERENCE', `"${reference}" names no contained resource`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (skip.has(key)) continue;
    const at = `${path}.${key}`;
    if ((key === 'birthDate' || key === 'created' || key.endsWith('Date')) && typeof item === 'string' && key !== 'lastUpdated' && !DATE.test(item) && !/^\d{4}-\d{2}-\d{2}T/.test(item)) {
      error(at, 'INVALID_DATE', `"${item}" is not a FHIR date`);
    }
    checkElements(item, at, issues, containedIds);
  }
}

/**
 * The resource for people: narrative dropped, Money and Quantity values as the decimals
 * written, local references resolved to their contained resource, and a summary of what
 * the payer adapters read from insurance resources.
 */
export function describeFhir(document: FhirDocument): unknown {
  if (!document.resource) return { valid: false, issues: document.issues };
  const root = document.resource as unknown as Json;
  return {
    valid: document.valid,
    resourceType: root['resourceType'],
    id: root['id'],
    summary: summarize(root, root['resourceType'] as string, document.decimals, root),
    resource: normalized(root, root['resourceType'] as string, document.decimals, containedOf(root)),
    issues: document.issues,
  };
}

function containedOf(resource: Json): Map<string, Json> {
  const byId = new Map<string, Json>();
  for (const item of Array.isArray(resource['contained']) ? resource['contained'] : []) {
    if (isObject(item) && typeof item['id'] === 'string') byId.set(item['id'], item);
  }
  return byId;
}

function normalized(value: unknown, path: string, decimals: ReadonlyMap<string, string>, contained: Map<string, Json>): unknown {
  if (Array.isArray(value)) return value.map((item, index) => normalized(item, `${path}[${index}]`, decimals, contained));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === 'text' && isObject(item) && 'div' in item) continue;
    if (key === 'contained') continue;
    const at = `${path}.${key}`;
    if (key === 'value' && typeof item === 'number') out[key] = decimals.get(at) ?? String(item);
    else out[key] = normalized(item, at, decimals, contained);
  }
  const reference = value['reference'];
  if (typeof reference === 'string' && reference.startsWith('#')) {
    const target = contained.get(reference.slice(1));
    if (target) out['resolved'] = normalized(target, `${path}.resolved`, decimals, new Map());
  }
  return out;
}

/** Money or Quantity as written: `{ value: "135.57", currency: "USD" }`. */
function amount(value: unknown, path: string, decimals: ReadonlyMap<string, string>): Json | undefined {
  if (!isObject(value)) return undefined;
  const written = typeof value['value'] === 'number' ? decimals.get(`${path}.value`) ?? String(value['value']) : undefined;
  const out: Json = { value: written };
  for (const key of ['currency', 'unit', 'system', 'code', 'comparator']) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

function code(concept: unknown): string | undefined {
  if (!isObject(concept)) return undefined;
  const coding = Array.isArray(concept['coding']) ? (concept['coding'][0] as Json | undefined) : undefined;
  return (coding?.['code'] as string | undefined) ?? (concept['text'] as string | undefined);
}

function ref(reference: unknown): string | undefined {
  if (!isObject(reference)) return undefined;
  if (typeof reference['reference'] === 'string') return reference['reference'];
  const identifier = reference['identifier'];
  return isObject(identifier) ? `${String(identifier['system'] ?? '')}|${String(identifier['value'] ?? '')}` : undefined;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function summarize(resource: Json, path: string, decimals: ReadonlyMap<string, string>, root: Json): Json | undefined {
  switch (resource['resourceType']) {
    case 'Claim':
      return {
        use: resource['use'], status: resource['status'], type: code(resource['type']), patient: ref(resource['patient']), insurer: ref(resource['insurer']), provider: ref(resource['provider']), created: resource['created'],
        total: amount(resource['total'], `${path}.total`, decimals),
        insurance: list(resource['insurance']).map((insurance) => ({ sequence: insurance['sequence'], focal: insurance['focal'], coverage: ref(insurance['coverage']), preAuthRef: insurance['preAuthRef'] })),
        diagnoses: list(resource['diagnosis']).map((diagnosis) => code(diagnosis['diagnosisCodeableConcept'])),
        items: list(resource['item']).map((item, index) => ({
          sequence: item['sequence'], productOrService: code(item['productOrService']), servicedDate: item['servicedDate'],
          quantity: amount(item['quantity'], `${path}.item[${index}].quantity`, decimals),
          unitPrice: amount(item['unitPrice'], `${path}.item[${index}].unitPrice`, decimals),
          net: amount(item['net'], `${path}.item[${index}].net`, decimals),
        })),
      };
    case 'ClaimResponse':
      return {
        use: resource['use'], outcome: resource['outcome'], disposition: resource['disposition'], preAuthRef: resource['preAuthRef'], request: ref(resource['request']), patient: ref(resource['patient']), insurer: ref(resource['insurer']),
        items: list(resource['item']).map((item, index) => ({
          itemSequence: item['itemSequence'],
          adjudication: list(item['adjudication']).map((adjudication, at) => ({ category: code(adjudication['category']), amount: amount(adjudication['amount'], `${path}.item[${index}].adjudication[${at}].amount`, decimals), value: adjudication['value'] })),
        })),
        total: list(resource['total']).map((total, index) => ({ category: code(total['category']), amount: amount(total['amount'], `${path}.total[${index}].amount`, decimals) })),
        payment: isObject(resource['payment']) ? { type: code(resource['payment']['type']), amount: amount(resource['payment']['amount'], `${path}.payment.amount`, decimals), date: resource['payment']['date'] } : undefined,
      };
    case 'CoverageEligibilityRequest':
      return {
        purpose: resource['purpose'], patient: ref(resource['patient']), insurer: ref(resource['insurer']), provider: ref(resource['provider']), created: resource['created'],
        insurance: list(resource['insurance']).map((insurance) => ({ focal: insurance['focal'], coverage: ref(insurance['coverage']) })),
        items: list(resource['item']).map((item) => ({ category: code(item['category']), productOrService: code(item['productOrService']) })),
      };
    case 'CoverageEligibilityResponse':
      return {
        purpose: resource['purpose'], outcome: resource['outcome'], disposition: resource['disposition'], patient: ref(resource['patient']), insurer: ref(resource['insurer']), request: ref(resource['request']),
        insurance: list(resource['insurance']).map((insurance, index) => ({
          coverage: ref(insurance['coverage']), inforce: insurance['inforce'],
          items: list(insurance['item']).map((item, at) => ({
            category: code(item['category']), network: code(item['network']),
            benefits: list(item['benefit']).map((benefit, b) => ({ type: code(benefit['type']), allowed: amount(benefit['allowedMoney'], `${path}.insurance[${index}].item[${at}].benefit[${b}].allowedMoney`, decimals) ?? benefit['allowedUnsignedInt'], used: amount(benefit['usedMoney'], `${path}.insurance[${index}].item[${at}].benefit[${b}].usedMoney`, decimals) ?? benefit['usedUnsignedInt'] })),
          })),
        })),
      };
    case 'Patient': {
      const name = list(resource['name']).find((candidate) => candidate['use'] === 'official') ?? list(resource['name'])[0];
      return {
        family: name?.['family'], given: name?.['given'], gender: resource['gender'], birthDate: resource['birthDate'],
        identifiers: list(resource['identifier']).map((identifier) => ({ system: identifier['system'], value: identifier['value'] })),
      };
    }
    case 'Observation':
      return {
        status: resource['status'], code: code(resource['code']), subject: ref(resource['subject']),
        value: amount(resource['valueQuantity'], `${path}.valueQuantity`, decimals) ?? resource['valueString'] ?? code(resource['valueCodeableConcept']),
        effective: resource['effectiveDateTime'] ?? resource['effectivePeriod'],
        interpretation: list(resource['interpretation']).map(code),
        referenceRange: list(resource['referenceRange']).map((range, index) => ({ low: amount(range['low'], `${path}.referenceRange[${index}].low`, decimals), high: amount(range['high'], `${path}.referenceRange[${index}].high`, decimals) })),
      };
    case 'MedicationRequest': {
      const medicationRef = ref(resource['medicationReference']);
      const medication = medicationRef?.startsWith('#') ? containedOf(root).get(medicationRef.slice(1)) : undefined;
      return {
        status: resource['status'], intent: resource['intent'], subject: ref(resource['subject']), authoredOn: resource['authoredOn'],
        medication: medication ? code(medication['code']) : code(resource['medicationCodeableConcept']) ?? medicationRef,
        dispense: isObject(resource['dispenseRequest']) ? { quantity: amount(resource['dispenseRequest']['quantity'], `${path}.dispenseRequest.quantity`, decimals), repeats: resource['dispenseRequest']['numberOfRepeatsAllowed'] } : undefined,
      };
    }
    case 'Bundle':
      return {
        type: resource['type'],
        entries: list(resource['entry']).map((entry, index) => {
          const inner = entry['resource'];
          return isObject(inner) ? { fullUrl: entry['fullUrl'], resourceType: inner['resourceType'], id: inner['id'], summary: summarize(inner, `${path}.entry[${index}].resource`, decimals, inner) } : { fullUrl: entry['fullUrl'] };
        }),
      };
    default:
      return undefined;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/** A Bundle's entries' resources (for adapters reading a payer's search or transaction answer). */
export function bundleResources(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}
