import {
  getNamedType, getNullableType, isCompositeType, isListType, isObjectType, isInterfaceType, Kind, parse,
  type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLOutputType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';

/**
 * A query result as a table, for BI tools: the first root field is the table (one row per item
 * of a list, one row for an object); nested objects become dotted columns (`organization.name`);
 * nested lists stay whole in one cell (JSON), because expanding two sibling lists would
 * multiply rows into a cross product nobody asked for.
 */
export interface Table {
  columns: string[];
  rows: Array<Record<string, unknown>>;
}

interface Column {
  path: string[];
  name: string;
}

function fieldsOf(type: GraphQLCompositeType): Record<string, { type: GraphQLOutputType }> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields() : undefined;
}

/**
 * The columns, in selection order, from the operation and the schema rather than from the data:
 * the header is the same for every call, empty results and null objects included.
 */
function columnsOf(schema: GraphQLSchema, parent: GraphQLCompositeType, selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, prefix: string[], into: Map<string, Column>): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT || selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
      if (!fragment) continue;
      const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
      if (condition && isCompositeType(condition)) columnsOf(schema, condition, fragment.selectionSet, fragments, prefix, into);
      continue;
    }
    const key = selection.alias?.value ?? selection.name.value;
    const path = [...prefix, key];
    const fieldType = fieldsOf(parent)?.[selection.name.value]?.type;
    const named = fieldType ? getNamedType(fieldType) : undefined;
    const expandable = selection.selectionSet && fieldType && named && isCompositeType(named) && !isListType(getNullableType(fieldType));
    if (expandable && selection.selectionSet && named && isCompositeType(named)) columnsOf(schema, named, selection.selectionSet, fragments, path, into);
    else into.set(path.join('.'), { path, name: path.join('.') });
  }
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return null;
    current = (current as Record<string, unknown>)[key];
  }
  return current ?? null;
}

/** The operation's result as rows; `operationBody` is the manifest body it ran. */
export function toTable(schema: GraphQLSchema, operationBody: string, data: Record<string, unknown> | null | undefined): Table {
  const document = parse(operationBody);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const root = operation ? schema.getRootType(operation.operation) : undefined;
  const first = operation?.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  if (!operation || !root || !first || first.kind !== Kind.FIELD) return { columns: [], rows: [] };
  const key = first.alias?.value ?? first.name.value;
  const fieldType = root.getFields()[first.name.value]?.type;
  const named = fieldType ? getNamedType(fieldType) : undefined;
  const columns = new Map<string, Column>();
  if (first.selectionSet && named && isCompositeType(named)) columnsOf(schema, named, first.selectionSet, fragments, [], columns);
  else columns.set(key, { path: [], name: key });

  const value = data?.[key] ?? null;
  const items: unknown[] = Array.isArray(value) ? value : value === null ? [] : [value];
  const rows = items.map((item) => Object.fromEntries([...columns.values()].map((column) => [column.name, valueAt(item, column.path)])));
  return { columns: [...columns.keys()], rows };
}

/** A cell's text: empty for null, JSON for lists and objects (JSON scalars), the value otherwise. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled; lines end CRLF. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The table as CSV with a header row. A cell that a spreadsheet would run as a formula
 * (`=`, `+`, `-`, `@`, tab, CR at the start) is prefixed with `'`, as OWASP advises against
 * CSV injection: exported values can be user-entered text.
 */
export function toCsv(table: Table): string {
  const guard = (text: string): string => (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text) ? `'${text}` : text);
  const lines = [table.columns.map(csvField).join(','), ...table.rows.map((row) => table.columns.map((c) => csvField(guard(cellText(row[c])))).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

/** Parses RFC 4180 CSV (the inverse of toCsv, for tests and tools). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += char;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}
