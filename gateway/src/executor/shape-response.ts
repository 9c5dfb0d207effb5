import {
  assert, ERRORS, isCompositeType, isCustomScalarType, isListType, isNonNullType, isObjectType, isSubtype, isValidLeafValue, typenameFieldName, Variable,
  type CompositeType, type Directive, type Field, type FragmentElement, type NamedType, type Operation, type Schema, type Selection, type SelectionSet, type Type,
} from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';

/**
 * The last step of executing a federated query: the merged subgraph data, shaped to the client's
 * selection — field order, aliases, `__typename`, `@skip`/`@include`, type conditions, leaf
 * values checked against their types and nulls propagated to the nearest nullable field.
 *
 * It gives exactly what @apollo/gateway's `computeResponse` gives (same data, same errors with
 * the same messages and paths; the tests compare the two), but the operation is walked once,
 * when it is first planned, into a tree of closures: per request nothing re-reads directives,
 * re-resolves types by name or allocates result records. On the benchmark's answer (87 KB)
 * that step fell from about 1 ms to a fraction of it.
 */
export interface ResponseShape {
  shape(input: Record<string, unknown> | null | undefined, variables: Record<string, unknown> | undefined): ShapedResponse;
}

export interface ShapedResponse {
  data: Record<string, unknown> | null | undefined;
  errors: GraphQLError[];
}

type Path = Array<string | number>;

/** One request's mutable state: what `computeResponse` threads through as `parameters` and result records. */
interface Run {
  variables: Record<string, unknown>;
  errors: GraphQLError[];
  path: Path;
  /** Set by each value step: the shaped value is null where the schema says it must not be (the parent must go null too). */
  invalid: boolean;
  /** Set by each value step: an error was recorded for this value. */
  hasErrors: boolean;
}

/** An applied `@skip` or `@include`. */
type ConditionDirective = Directive<Field | FragmentElement, { if: boolean | Variable }>;

type SkipCondition = (variables: Record<string, unknown>) => boolean;

/** Shapes one field's value; leaves its flags in `run.invalid` and `run.hasErrors`. */
type ValueStep = (output: unknown, input: unknown, run: Run, parentType: CompositeType) => unknown;

interface CompiledField {
  kind: 'field';
  skip: SkipCondition | undefined;
  responseName: string;
  isTypename: boolean;
  value: ValueStep;
}

interface CompiledFragment {
  kind: 'fragment';
  skip: SkipCondition | undefined;
  typeCondition: CompositeType | undefined;
  /** Whether the type condition holds, by runtime `__typename` (or by parent type when there is none). */
  applies: Map<string, boolean>;
  selections: CompiledSelection[];
}

type CompiledSelection = CompiledField | CompiledFragment;

const OK = false;
const NULL_BUBBLES_UP = true;

/**
 * The operation's shape, or undefined when it selects schema introspection (`__schema`,
 * `__type`): those are answered from the API schema, which Apollo's executor does (and rarely:
 * production serves no introspection).
 */
export function compileResponseShape(operation: Operation): ResponseShape | undefined {
  const schema = operation.schema();
  const compiler = new ShapeCompiler(schema);
  const root = compiler.selections(operation.selectionSet);
  if (compiler.selectsIntrospection) return undefined;
  const rootType = schema.schemaDefinition.rootType(operation.rootKind);
  assert(rootType, () => `no root type for ${operation.rootKind}`);
  const defaultedVariables = operation.collectDefaultedVariableValues();
  const hasDefaults = Object.keys(defaultedVariables).length > 0;
  const typenames = compiler.objectTypeNames;
  const applySet = (input: Record<string, unknown>, selections: CompiledSelection[], output: Record<string, unknown>, run: Run, parentType: CompositeType): boolean => {
    for (const selection of selections) {
      if (selection.skip && selection.skip(run.variables)) continue;
      if (selection.kind === 'field') {
        const responseName = selection.responseName;
        const outputValue = output[responseName];
        let inputValue = Object.prototype.hasOwnProperty.call(input, responseName) ? (input[responseName] ?? null) : null;
        if (selection.isTypename) {
          if (outputValue === undefined) {
            if (inputValue === null && responseName !== typenameFieldName) inputValue = input[typenameFieldName] ?? null;
            const named = typeof inputValue === 'string' ? typenames(inputValue) : undefined;
            const type = named === undefined ? parentType : named;
            if (!isObjectType(type)) return NULL_BUBBLES_UP;
            output[responseName] = type.name;
          }
          continue;
        }
        run.path.push(responseName);
        const updated = selection.value(outputValue, inputValue, run, parentType);
        output[responseName] = updated;
        run.path.pop();
        if (run.invalid) return NULL_BUBBLES_UP;
      } else {
        const typename = input[typenameFieldName];
        assert(!typename || typeof typename === 'string', () => `Got unexpected value for __typename: ${String(typename)}`);
        if (!compiler.conditionApplies(selection, (typename as string | undefined) || undefined, parentType)) continue;
        if (applySet(input, selection.selections, output, run, selection.typeCondition ?? parentType) === NULL_BUBBLES_UP) return NULL_BUBBLES_UP;
      }
    }
    return OK;
  };
  compiler.applySet = applySet;

  return {
    shape(input, variables) {
      if (!input) return { data: input, errors: [] };
      const run: Run = {
        variables: hasDefaults ? { __proto__: null, ...defaultedVariables, ...variables } : (variables ?? {}),
        errors: [],
        path: [],
        invalid: false,
        hasErrors: false,
      };
      const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      const result = applySet(input, root, data, run, rootType);
      return { data: result === NULL_BUBBLES_UP ? null : data, errors: run.errors };
    },
  };
}

class ShapeCompiler {
  /** Filled in by `compileResponseShape` (the selection-set walk closes over the compiled tree). */
  applySet!: (input: Record<string, unknown>, selections: CompiledSelection[], output: Record<string, unknown>, run: Run, parentType: CompositeType) => boolean;
  private readonly typesByName = new Map<string, NamedType | null>();
  private readonly leafChecks = new Map<string, (value: unknown) => boolean>();
  selectsIntrospection = false;

  constructor(private readonly schema: Schema) {}

  /** The schema's type of that name, looked up once per name. */
  readonly objectTypeNames = (name: string): NamedType | undefined => {
    let type = this.typesByName.get(name);
    if (type === undefined) {
      type = this.schema.type(name) ?? null;
      this.typesByName.set(name, type);
    }
    return type ?? undefined;
  };

  selections(selectionSet: SelectionSet): CompiledSelection[] {
    return selectionSet.selections().map((selection) => this.selection(selection));
  }

  conditionApplies(fragment: CompiledFragment, typename: string | undefined, parentType: CompositeType): boolean {
    const condition = fragment.typeCondition;
    if (!condition) return true;
    // A NUL cannot start a type name: the two kinds of key cannot collide.
    const key = typename ?? `\u0000${parentType.name}`;
    let applies = fragment.applies.get(key);
    if (applies === undefined) {
      if (typename) {
        const type = this.objectTypeNames(typename);
        applies = !!type && isSubtype(condition, type);
      } else {
        applies = isSubtype(condition, parentType);
      }
      fragment.applies.set(key, applies);
    }
    return applies;
  }

  private selection(selection: Selection): CompiledSelection {
    const skip = this.skipCondition(selection.element.appliedDirectivesOf(this.schema.skipDirective())[0], selection.element.appliedDirectivesOf(this.schema.includeDirective())[0]);
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      const isTypename = field.name === typenameFieldName;
      if (field.definition.isSchemaIntrospectionField()) this.selectsIntrospection = true;
      const subselections = selection.selectionSet && !this.selectsIntrospection ? this.selections(selection.selectionSet) : undefined;
      return {
        kind: 'field',
        skip,
        responseName: field.responseName(),
        isTypename,
        value: isTypename || this.selectsIntrospection ? unreachableStep : this.valueStep(field.definition.type as Type, subselections),
      };
    }
    return {
      kind: 'fragment',
      skip,
      typeCondition: selection.element.typeCondition,
      applies: new Map(),
      selections: this.selections(selection.selectionSet),
    };
  }

  private skipCondition(skip: ConditionDirective | undefined, include: ConditionDirective | undefined): SkipCondition | undefined {
    if (!skip && !include) return undefined;
    const skipIf = skip ? conditionValue(skip) : undefined;
    const includeIf = include ? conditionValue(include) : undefined;
    return (variables) => (skipIf !== undefined && skipIf(variables)) || (includeIf !== undefined && !includeIf(variables));
  }

  /** `updateOutputValue` of @apollo/gateway's result shaping, specialised to one field type. */
  private valueStep(type: Type, selections: CompiledSelection[] | undefined): ValueStep {
    const hasSelections = selections !== undefined;
    let inner: ValueStep;
    if (isNonNullType(type)) {
      const ofType = type.ofType;
      const step = this.valueStep(ofType, selections);
      inner = (output, input, run, parentType) => {
        const updated = step(output, input, run, parentType);
        if (updated === null) {
          if (!run.hasErrors) run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describeLast(run.path, ofType, parentType)}.`, { path: Array.from(run.path) }));
          run.invalid = true;
          run.hasErrors = true;
          return updated;
        }
        run.invalid = false;
        run.hasErrors = false;
        return updated;
      };
    } else if (isListType(type)) {
      const element = this.valueStep(type.ofType, selections);
      inner = (output, input, run, parentType) => {
        if (input === null) return clean(run, null);
        assert(Array.isArray(input), () => `Invalid non-list value ${String(input)} returned by subgraph for list type ${type}`);
        assert(output === undefined || Array.isArray(output), () => `Invalid non-list value ${String(output)} returned by subgraph for list type ${type}`);
        const outputList = output as unknown[] | undefined;
        const length = input.length;
        assert(outputList === undefined || outputList.length === length, () => `[${String(input)}].length (${length}) !== [${String(outputList)}].length (${outputList?.length ?? 0})`);
        const updated: unknown[] = new Array<unknown>(length);
        let nullify = false;
        let hasErrors = false;
        for (let index = 0; index < length; index++) {
          run.path.push(index);
          updated[index] = element(outputList === undefined ? undefined : outputList[index], input[index], run, parentType);
          run.path.pop();
          nullify ||= run.invalid;
          hasErrors ||= run.hasErrors;
        }
        run.invalid = false;
        run.hasErrors = hasErrors;
        return nullify ? null : updated;
      };
    } else if (isCompositeType(type)) {
      assert(selections, () => `Invalid empty selection set for composite type ${type}`);
      inner = (output, input, run, parentType) => {
        if (input === null) return clean(run, null);
        assert(typeof input === 'object', () => `Invalid non-object value ${String(input)} returned by subgraph for composite type ${type}`);
        assert(output === undefined || typeof output === 'object', () => `Invalid non-object value ${String(input)} returned by subgraph for composite type ${type}`);
        const object = input as Record<string, unknown>;
        const inputTypename = object[typenameFieldName];
        assert(inputTypename === undefined || typeof inputTypename === 'string', () => `Invalid non-string value ${String(inputTypename)} for __typename at ${run.path.join(',')}`);
        let objectType: CompositeType = type;
        if (inputTypename) {
          const named = this.objectTypeNames(inputTypename);
          if (!named || !isCompositeType(named)) {
            run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${describeLast(run.path, type, parentType)}.`, { path: Array.from(run.path) }));
            run.invalid = false;
            run.hasErrors = true;
            return null;
          }
          objectType = named;
        }
        const outputObject = (output ?? Object.create(null)) as Record<string, unknown>;
        const bubbled = this.applySet(object, selections, outputObject, run, objectType);
        run.invalid = false;
        run.hasErrors = bubbled;
        return bubbled ? null : outputObject;
      };
    } else {
      const isValid = this.leafCheck(type);
      inner = (output, input, run, parentType) => {
        if (input === null) return clean(run, null);
        assert(output === undefined, () => `Excepted output to be undefined but got ${type} for type ${type}`);
        const valid = isValid(input);
        if (!valid) run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describeLast(run.path, type, parentType)}.`, { path: Array.from(run.path) }));
        run.invalid = false;
        run.hasErrors = !valid;
        return valid ? input : null;
      };
    }
    // A value already in place (a field selected twice, or by two fragments): kept as it is when it
    // is null or a leaf; an object is shaped further by this selection.
    return (output, input, run, parentType) => {
      if (output === null || (output !== undefined && !hasSelections)) return clean(run, output);
      return inner(output, input, run, parentType);
    };
  }

  private leafCheck(type: Type): (value: unknown) => boolean {
    assert(type.kind === 'ScalarType' || type.kind === 'EnumType', () => `expected a leaf type, got ${type}`);
    let check = this.leafChecks.get(type.name);
    if (!check) {
      const leaf = type;
      check = isCustomScalarType(leaf) ? () => true : (value) => isValidLeafValue(this.schema, value, leaf);
      this.leafChecks.set(type.name, check);
    }
    return check;
  }
}

function conditionValue(directive: ConditionDirective): (variables: Record<string, unknown>) => boolean {
  const condition: unknown = directive.arguments().if;
  if (condition instanceof Variable) {
    const name = condition.name;
    return (variables) => {
      const value = variables[name];
      assert(value !== undefined && typeof value === 'boolean', () => `Unexpected value ${String(value)} for variable ${String(condition)} of ${String(directive)}`);
      return value;
    };
  }
  const constant = condition === true;
  return () => constant;
}

function clean(run: Run, value: unknown): unknown {
  run.invalid = false;
  run.hasErrors = false;
  return value;
}

function unreachableStep(): never {
  throw new Error('__typename is answered by the selection walk');
}

function describeLast(path: Path, currentType: Type, parentType: CompositeType): string {
  const element = path[path.length - 1];
  assert(element !== undefined, 'Should not have been called on an empty path');
  return typeof element === 'string' ? `field ${parentType}.${element}` : `array element of type ${currentType} at index ${element}`;
}
