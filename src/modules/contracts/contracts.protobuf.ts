// protobufjs is CommonJS that builds its exports by assignment: only its default export (the
// whole module) is reliable under ESM; its types come separately.
import protobuf from "protobufjs";
import type { AnyNestedObject, Field, IParserResult, MapField, NamespaceBase, ReflectionObject } from "protobufjs";
import type { Change } from "./contracts.changes.js";
import { contractErrors } from "./contracts.errors.js";
import type { ProtobufCategory } from "./contracts.table.js";

/**
 * Protocol Buffers contracts: parsing (protobufjs, pure JavaScript) into a small model of what
 * buf's breaking rules look at, and those rules.
 *
 * Content is one `.proto` file as text (it is then named `contract.proto`), or a JSON object of
 * file path → text (`{"acme/orders/v1/orders.proto": "syntax = \"proto3\"; …"}`). Imports must
 * name another of the contract's files, or one of the well-known types protobufjs bundles
 * (`google/protobuf/{any,duration,empty,field_mask,struct,timestamp,wrappers}.proto`): nothing is
 * ever read from disk or fetched.
 *
 * A version's normalised text is the model as canonical JSON, so comments, formatting and
 * declaration order do not make a new version, and a later diff never parses `.proto` again.
 */

export const SINGLE_FILE_NAME = "contract.proto";

export interface ProtoField {
  name: string;
  number: number;
  label: "optional" | "required" | "repeated";
  /** A scalar (`int32`), a message or enum's full name (`acme.v1.Money`), or `map<key, value>`. */
  type: string;
  kind: "scalar" | "message" | "enum" | "map";
  /** The (real, not proto3-optional) oneof it belongs to; absent when none. */
  oneof?: string;
  jsonName: string;
  /** Absent when not set (ctype STRING, jstype JS_NORMAL). */
  ctype?: string;
  jstype?: string;
}

export interface Reserved {
  /** Inclusive ranges. */
  ranges: [number, number][];
  names: string[];
}

export interface ProtoMessage {
  file: string;
  fields: ProtoField[];
  oneofs: string[];
  reserved: Reserved;
  extensions: [number, number][];
  messageSetWireFormat: boolean;
  noStandardDescriptorAccessor: boolean;
}

export interface ProtoEnum {
  file: string;
  values: { name: string; number: number }[];
  reserved: Reserved;
  /** proto2 enums are closed (unknown values are dropped), proto3 ones open. */
  closed: boolean;
}

export interface ProtoMethod {
  name: string;
  requestType: string;
  responseType: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
  idempotencyLevel: string;
}

export interface ProtoService {
  file: string;
  methods: ProtoMethod[];
}

export interface ProtoFile {
  package: string;
  syntax: string;
  /** The file options buf compares, with descriptor.proto's defaults filled in. */
  options: Record<string, string>;
}

/** Everything the contract's files declare, by full name (without the leading dot). */
export interface ProtoPackage {
  files: Record<string, ProtoFile>;
  messages: Record<string, ProtoMessage>;
  enums: Record<string, ProtoEnum>;
  services: Record<string, ProtoService>;
}

/** The file options buf's FILE_SAME_* rules compare, with their defaults (descriptor.proto). */
const FILE_OPTIONS: Record<string, string> = {
  csharp_namespace: "",
  go_package: "",
  java_multiple_files: "false",
  java_outer_classname: "",
  java_package: "",
  java_string_check_utf8: "false",
  objc_class_prefix: "",
  php_class_prefix: "",
  php_metadata_namespace: "",
  php_namespace: "",
  ruby_package: "",
  swift_prefix: "",
  optimize_for: "SPEED",
  cc_generic_services: "false",
  java_generic_services: "false",
  py_generic_services: "false",
  php_generic_services: "false",
  cc_enable_arenas: "true",
};

const SORTED_FILE_OPTIONS = sorted(FILE_OPTIONS);

/** The record with its keys in the order canonical JSON puts them (`Array.prototype.sort`'s). */
function sorted<T>(record: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key]!;
  return out;
}

const MAX_FILES = 1_000;

function invalid(detail: string, reason: string, file?: string, line?: number) {
  return contractErrors.invalidContent(detail, {
    errors: [{ field: "content", reason }],
    location: line ? { line, column: 1 } : null,
    path: file ? `$['${file.replace(/'/g, "\\'")}']` : null,
  });
}

/** The files of the content: one `.proto` text, or a JSON object of path → text. */
function filesOf(text: string): Record<string, string> {
  if (!/^\s*\{/.test(text)) return { [SINGLE_FILE_NAME]: text };
  let files: unknown;
  try {
    files = JSON.parse(text);
  } catch (err) {
    throw invalid(
      `A protobuf contract is one .proto file, or a JSON object of file path → .proto text; this is neither: ${(err as Error).message}.`,
      "not a .proto file or a JSON object of files",
    );
  }
  if (typeof files !== "object" || files === null || Array.isArray(files))
    throw invalid("A protobuf contract's JSON form must be an object of file path → .proto text.", "not an object of files");
  const entries = Object.entries(files);
  if (entries.length === 0) throw invalid("The object of files is empty: a protobuf contract needs at least one .proto file.", "no files");
  if (entries.length > MAX_FILES) throw invalid(`A protobuf contract holds at most ${MAX_FILES} files.`, "too many files");
  for (const [path, source] of entries) {
    if (!/^[\w.-]+(?:\/[\w.-]+)*\.proto$/.test(path) || path.split("/").some((s) => s === "." || s === ".."))
      throw invalid(
        `"${path.slice(0, 200)}" is not a relative .proto path (segments of letters, digits, '.', '_' or '-', ending in .proto).`,
        "invalid file path",
        path,
      );
    if (typeof source !== "string")
      throw invalid(`The content of ${path} must be a string of .proto text.`, "file content is not text", path);
  }
  return files as Record<string, string>;
}

const SYNTAX = /^\s*(syntax|edition)\s*=\s*["']([\w-]+)["']\s*;/m;

/** protoc's default JSON name: underscores dropped, the letter after each upper-cased. */
export function jsonNameOf(name: string): string {
  let out = "";
  let upper = false;
  for (const ch of name) {
    if (ch === "_") upper = true;
    else {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    }
  }
  return out;
}

const fullName = (o: ReflectionObject) => o.fullName.replace(/^\./, "");

function reservedOf(reserved: (number[] | string)[] | undefined): Reserved {
  const ranges: [number, number][] = [];
  const names: string[] = [];
  for (const r of reserved ?? []) {
    if (typeof r === "string") names.push(r);
    else ranges.push([r[0]!, r[1] ?? r[0]!]);
  }
  return { names: names.sort(), ranges: ranges.sort((a, b) => a[0] - b[0]) };
}

const inRanges = (ranges: readonly [number, number][], n: number) => ranges.some(([lo, hi]) => n >= lo && n <= hi);

function fieldOf(field: Field, message: string, file: string): ProtoField {
  const resolved = field.resolvedType;
  const synthetic = field.options?.proto3_optional === true;
  const map = field instanceof protobuf.MapField || (field as { map?: boolean }).map === true;
  const valueType = resolved ? fullName(resolved) : field.type;
  const options = field.options ?? {};
  if (typeof options.json_name === "string" && options.json_name.length === 0)
    throw invalid(`Field ${message}.${field.name} has an empty json_name.`, "empty json_name", file);
  // Keys in sorted order, here and in every object of the model: its JSON.stringify is then
  // its canonical JSON, without the (slower) sorting walk the other kinds need.
  const oneof = field.partOf && !synthetic ? field.partOf.name : null;
  return {
    ...(typeof options.ctype === "string" ? { ctype: options.ctype } : {}),
    jsonName: typeof options.json_name === "string" ? options.json_name : jsonNameOf(field.name),
    ...(typeof options.jstype === "string" ? { jstype: options.jstype } : {}),
    kind: map ? "map" : resolved instanceof protobuf.Enum ? "enum" : resolved ? "message" : "scalar",
    label: map || field.repeated ? "repeated" : field.required ? "required" : "optional",
    name: field.name,
    number: field.id,
    ...(oneof ? { oneof } : {}),
    type: map ? `map<${(field as MapField).keyType}, ${valueType}>` : valueType,
  };
}

/** Every message, enum and service in the namespace (and nested in messages), into the model. */
function collect(ns: NamespaceBase, model: ProtoPackage, syntaxOf: (file: string) => string) {
  for (const object of ns.nestedArray) {
    const file = object.filename;
    if (object instanceof protobuf.Type) {
      // Bundled well-known types (no file of the contract's) are referred to, not part of it.
      if (file) {
        const name = fullName(object);
        const reserved = reservedOf(object.reserved);
        const fields = object.fieldsArray.map((f) => fieldOf(f, name, file)).sort((a, b) => a.number - b.number);
        for (const f of fields) {
          if (inRanges(reserved.ranges, f.number))
            throw invalid(
              `Field ${name}.${f.name} uses field number ${f.number}, which the message reserves.`,
              "reserved number reused",
              file,
            );
          if (reserved.names.includes(f.name))
            throw invalid(`Field ${name}.${f.name} uses a name the message reserves.`, "reserved name reused", file);
        }
        model.messages[name] = {
          extensions: (object.extensions ?? []).map((r): [number, number] => [r[0]!, r[1] ?? r[0]!]).sort((a, b) => a[0] - b[0]),
          fields,
          file,
          messageSetWireFormat: object.options?.message_set_wire_format === true,
          noStandardDescriptorAccessor: object.options?.no_standard_descriptor_accessor === true,
          oneofs: object.oneofsArray
            .filter((o) => !o.fieldsArray.every((f) => f.options?.proto3_optional === true) || o.fieldsArray.length === 0)
            .map((o) => o.name)
            .sort(),
          reserved,
        };
      }
      collect(object, model, syntaxOf);
    } else if (object instanceof protobuf.Enum) {
      if (!file) continue;
      const name = fullName(object);
      const values = Object.entries(object.values)
        .map(([value, number]) => ({ name: value, number }))
        .sort((a, b) => a.number - b.number || a.name.localeCompare(b.name));
      model.enums[name] = { closed: syntaxOf(file) === "proto2", file, reserved: reservedOf(object.reserved), values };
    } else if (object instanceof protobuf.Service) {
      if (!file) continue;
      model.services[fullName(object)] = {
        file,
        methods: object.methodsArray
          .map((m) => ({
            clientStreaming: m.requestStream === true,
            idempotencyLevel: typeof m.options?.idempotency_level === "string" ? m.options.idempotency_level : "IDEMPOTENCY_UNKNOWN",
            name: m.name,
            requestType: m.resolvedRequestType ? fullName(m.resolvedRequestType) : m.requestType,
            responseType: m.resolvedResponseType ? fullName(m.resolvedResponseType) : m.responseType,
            serverStreaming: m.responseStream === true,
          }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      };
    } else if (object instanceof protobuf.Namespace) {
      collect(object, model, syntaxOf);
    }
  }
}

/** protobufjs's messages end with "(file, line N)": the line, for the problem's location. */
const lineOf = (message: string) => {
  const m = /line (\d+)\)/.exec(message);
  return m ? Number(m[1]) : undefined;
};

const WELL_KNOWN = /^google\/protobuf\/(any|duration|empty|field_mask|struct|timestamp|wrappers)\.proto$/;

/** Parses a protobuf contract's content into its model; a 422 problem says what is wrong and where. */
export function parseProtobuf(text: string): ProtoPackage {
  const files = filesOf(text);
  const root = new protobuf.Root();
  const model: ProtoPackage = { enums: {}, files: {}, messages: {}, services: {} };
  const added = new Set<string>();
  const consumed = new Map<ReflectionObject, number>();
  const parser = protobuf.parse as unknown as { filename: string | null };
  for (const [path, source] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    let parsed: IParserResult;
    try {
      parser.filename = path;
      parsed = protobuf.parse(source, root, { keepCase: true });
    } catch (err) {
      const message = (err as Error).message;
      throw invalid(`${path} is not valid .proto: ${message}.`, message.slice(0, 200), path, lineOf(message));
    } finally {
      parser.filename = null;
    }
    for (const name of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      if (Object.hasOwn(files, name)) continue;
      if (WELL_KNOWN.test(name)) {
        if (!added.has(name)) {
          added.add(name);
          root.addJSON((protobuf.common.get(name) as { nested: Record<string, AnyNestedObject> }).nested);
        }
        continue;
      }
      throw invalid(
        `${path} imports "${name.slice(0, 200)}", which is not one of the contract's files. Publish every file the contract imports (as a JSON object of path → text); only the well-known types google/protobuf/{any,duration,empty,field_mask,struct,timestamp,wrappers}.proto are built in.`,
        "import outside the contract",
        path,
      );
    }
    const pkg = parsed.package ?? "";
    // File options land on the package's namespace, shared by every file of the package: this
    // file's are the ones it appended.
    const ns = pkg ? root.lookup(pkg) : root;
    const own = ns?.parsedOptions ?? [];
    const options = { ...SORTED_FILE_OPTIONS };
    for (const entry of own.slice(consumed.get(ns!) ?? 0))
      for (const [key, value] of Object.entries(entry)) if (key in FILE_OPTIONS) options[key] = String(value);
    if (ns) consumed.set(ns, own.length);
    const declared = SYNTAX.exec(source);
    const syntax = declared ? (declared[1] === "edition" ? `editions ${declared[2]}` : declared[2]!) : "proto2";
    model.files[path] = { options, package: pkg, syntax };
  }
  try {
    root.resolveAll();
  } catch (err) {
    const message = (err as Error).message;
    throw invalid(`The contract's files do not resolve: ${message}.`, message.slice(0, 200));
  }
  collect(root, model, (file) => model.files[file]?.syntax ?? "proto2");
  return { enums: sorted(model.enums), files: sorted(model.files), messages: sorted(model.messages), services: sorted(model.services) };
}

// ---------------------------------------------------------------------------------------------
// Breaking-change rules, after buf's (rule ids and categories as buf v2 configurations list them).

export type ProtobufRule =
  | "FILE_NO_DELETE"
  | "FILE_SAME_PACKAGE"
  | "FILE_SAME_SYNTAX"
  | `FILE_SAME_${Uppercase<string>}`
  | "PACKAGE_NO_DELETE"
  | "MESSAGE_NO_DELETE"
  | "PACKAGE_MESSAGE_NO_DELETE"
  | "ENUM_NO_DELETE"
  | "PACKAGE_ENUM_NO_DELETE"
  | "SERVICE_NO_DELETE"
  | "PACKAGE_SERVICE_NO_DELETE"
  | "FIELD_NO_DELETE"
  | "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"
  | "FIELD_NO_DELETE_UNLESS_NAME_RESERVED"
  | "FIELD_SAME_NAME"
  | "FIELD_SAME_JSON_NAME"
  | "FIELD_SAME_LABEL"
  | "FIELD_SAME_ONEOF"
  | "FIELD_SAME_TYPE"
  | "FIELD_WIRE_COMPATIBLE_TYPE"
  | "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
  | "FIELD_SAME_CTYPE"
  | "FIELD_SAME_JSTYPE"
  | "MESSAGE_SAME_REQUIRED_FIELDS"
  | "MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT"
  | "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR"
  | "ONEOF_NO_DELETE"
  | "RESERVED_MESSAGE_NO_DELETE"
  | "EXTENSION_MESSAGE_NO_DELETE"
  | "ENUM_VALUE_NO_DELETE"
  | "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED"
  | "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED"
  | "ENUM_VALUE_SAME_NAME"
  | "ENUM_SAME_TYPE"
  | "RESERVED_ENUM_NO_DELETE"
  | "RPC_NO_DELETE"
  | "RPC_SAME_REQUEST_TYPE"
  | "RPC_SAME_RESPONSE_TYPE"
  | "RPC_SAME_CLIENT_STREAMING"
  | "RPC_SAME_SERVER_STREAMING"
  | "RPC_SAME_IDEMPOTENCY_LEVEL";

const ALL: ProtobufCategory[] = ["FILE", "PACKAGE", "WIRE_JSON", "WIRE"];
const GENERATED: ProtobufCategory[] = ["FILE", "PACKAGE"];

/** Which categories each rule belongs to (buf's `IDToCategories`). */
export function categoriesOf(rule: ProtobufRule): ProtobufCategory[] {
  if (rule.startsWith("FILE_SAME_") && rule !== "FILE_SAME_PACKAGE") return GENERATED;
  switch (rule) {
    case "FILE_NO_DELETE":
    case "MESSAGE_NO_DELETE":
    case "ENUM_NO_DELETE":
    case "SERVICE_NO_DELETE":
      return ["FILE"];
    case "PACKAGE_NO_DELETE":
    case "PACKAGE_MESSAGE_NO_DELETE":
    case "PACKAGE_ENUM_NO_DELETE":
    case "PACKAGE_SERVICE_NO_DELETE":
      return ["PACKAGE"];
    case "FIELD_NO_DELETE_UNLESS_NAME_RESERVED":
    case "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED":
    case "FIELD_WIRE_JSON_COMPATIBLE_TYPE":
      return ["WIRE_JSON"];
    case "FIELD_WIRE_COMPATIBLE_TYPE":
      return ["WIRE"];
    case "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED":
    case "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED":
      return ["WIRE_JSON", "WIRE"];
    case "FIELD_SAME_NAME":
    case "FIELD_SAME_JSON_NAME":
    case "ENUM_VALUE_SAME_NAME":
      return ["FILE", "PACKAGE", "WIRE_JSON"];
    case "FILE_SAME_PACKAGE":
    case "FIELD_SAME_LABEL":
    case "FIELD_SAME_ONEOF":
    case "MESSAGE_SAME_REQUIRED_FIELDS":
    case "MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT":
    case "RESERVED_MESSAGE_NO_DELETE":
    case "RESERVED_ENUM_NO_DELETE":
    case "RPC_SAME_REQUEST_TYPE":
    case "RPC_SAME_RESPONSE_TYPE":
    case "RPC_SAME_CLIENT_STREAMING":
    case "RPC_SAME_SERVER_STREAMING":
    case "RPC_SAME_IDEMPOTENCY_LEVEL":
      return ALL;
    default:
      // FIELD_NO_DELETE, FIELD_SAME_TYPE, FIELD_SAME_CTYPE, FIELD_SAME_JSTYPE, ONEOF_NO_DELETE,
      // EXTENSION_MESSAGE_NO_DELETE, MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR,
      // ENUM_VALUE_NO_DELETE, ENUM_SAME_TYPE, RPC_NO_DELETE.
      return GENERATED;
  }
}

interface Finding {
  action: Change["action"];
  location: string;
  sentence: string;
  /** The rules it breaks (none: an addition). */
  rules: ProtobufRule[];
}

/** Collects findings; one change may break several rules (a deleted field: up to three). */
class Findings {
  readonly byKey = new Map<string, Finding>();
  add(rule: ProtobufRule | null, action: Change["action"], location: string, sentence: string) {
    const key = `${location}\u0000${sentence}`;
    let finding = this.byKey.get(key);
    if (!finding) this.byKey.set(key, (finding = { action, location, sentence, rules: [] }));
    if (rule && !finding.rules.includes(rule)) finding.rules.push(rule);
  }
}

type Rule = (before: ProtoPackage, after: ProtoPackage, out: Findings) => void;

const both = <T>(a: Record<string, T>, b: Record<string, T>) =>
  Object.keys(a)
    .filter((k) => Object.hasOwn(b, k))
    .map((k) => [k, a[k]!, b[k]!] as const);
const packagesOf = (p: ProtoPackage) => new Set(Object.values(p.files).map((f) => f.package));
const packageOf = (p: ProtoPackage, file: string) => p.files[file]?.package ?? "";
const covered = (ranges: readonly [number, number][], [lo, hi]: readonly [number, number]) => {
  // Do the ranges (sorted, possibly adjacent) cover lo..hi?
  let next = lo;
  for (const [a, b] of ranges) {
    if (a > next) break;
    if (b >= next) next = b + 1;
    if (next > hi) return true;
  }
  return next > hi;
};
const rangeText = ([lo, hi]: readonly [number, number]) => (lo === hi ? `${lo}` : `${lo} to ${hi}`);

/** FILE_NO_DELETE, PACKAGE_NO_DELETE; files added. */
const filesDeleted: Rule = (before, after, out) => {
  for (const path of Object.keys(before.files))
    if (!Object.hasOwn(after.files, path)) out.add("FILE_NO_DELETE", "remove", path, `File ${path} was deleted`);
  for (const path of Object.keys(after.files)) if (!Object.hasOwn(before.files, path)) out.add(null, "add", path, `File ${path} was added`);
  const now = packagesOf(after);
  for (const pkg of packagesOf(before))
    if (!now.has(pkg)) out.add("PACKAGE_NO_DELETE", "remove", pkg || "(no package)", `Package ${pkg || "(none)"} was deleted`);
};

/** FILE_SAME_PACKAGE, FILE_SAME_SYNTAX and the FILE_SAME_<option> rules. */
const fileSettings: Rule = (before, after, out) => {
  for (const [path, a, b] of both(before.files, after.files)) {
    if (a.package !== b.package)
      out.add("FILE_SAME_PACKAGE", "replace", path, `File ${path} changed package from "${a.package}" to "${b.package}"`);
    if (a.syntax !== b.syntax)
      out.add("FILE_SAME_SYNTAX", "replace", path, `File ${path} changed syntax from "${a.syntax}" to "${b.syntax}"`);
    for (const option of Object.keys(FILE_OPTIONS))
      if (a.options[option] !== b.options[option])
        out.add(
          `FILE_SAME_${option.toUpperCase()}` as ProtobufRule,
          "replace",
          path,
          `File ${path} changed option ${option} from "${a.options[option]}" to "${b.options[option]}"`,
        );
  }
};

/**
 * MESSAGE_NO_DELETE / ENUM_NO_DELETE / SERVICE_NO_DELETE (per file: moving one to another file
 * breaks code generated per file) and their PACKAGE_* forms (per package); additions.
 */
function declarationsDeleted(
  what: "Message" | "Enum" | "Service",
  select: (p: ProtoPackage) => Record<string, { file: string }>,
  perFile: ProtobufRule,
  perPackage: ProtobufRule,
): Rule {
  return (before, after, out) => {
    const [a, b] = [select(before), select(after)];
    const packages = packagesOf(after);
    for (const [name, old] of Object.entries(a)) {
      const now = b[name];
      if (now && now.file === old.file) continue;
      if (now) {
        out.add(perFile, "remove", name, `${what} ${name} moved from file ${old.file} to ${now.file}`);
        continue;
      }
      const sentence = `${what} ${name} was deleted`;
      if (Object.hasOwn(after.files, old.file)) out.add(perFile, "remove", name, sentence);
      if (packages.has(packageOf(before, old.file))) out.add(perPackage, "remove", name, sentence);
      // Its file or package went too: FILE_NO_DELETE or PACKAGE_NO_DELETE says so.
      if (!Object.hasOwn(after.files, old.file) || !packages.has(packageOf(before, old.file))) out.add(null, "remove", name, sentence);
    }
    for (const name of Object.keys(b)) if (!Object.hasOwn(a, name)) out.add(null, "add", name, `${what} ${name} was added`);
  };
}

const fieldRef = (message: string, f: ProtoField) => `field ${f.number} ("${f.name}") of message ${message}`;

/** FIELD_NO_DELETE and its WIRE forms, which allow it once the number (or the name) is reserved. */
const fieldsDeleted: Rule = (before, after, out) => {
  for (const [name, a, b] of both(before.messages, after.messages)) {
    const numbers = new Set(b.fields.map((f) => f.number));
    for (const f of a.fields) {
      if (numbers.has(f.number)) continue;
      const location = `${name}.${f.name}`;
      const sentence = `The ${fieldRef(name, f)} was deleted`;
      out.add("FIELD_NO_DELETE", "remove", location, sentence);
      if (!inRanges(b.reserved.ranges, f.number)) out.add("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", "remove", location, sentence);
      if (!b.reserved.names.includes(f.name)) out.add("FIELD_NO_DELETE_UNLESS_NAME_RESERVED", "remove", location, sentence);
    }
    const old = new Set(a.fields.map((f) => f.number));
    for (const f of b.fields)
      if (!old.has(f.number)) out.add(null, "add", `${name}.${f.name}`, `The ${fieldRef(name, f)} was added (${f.label} ${f.type})`);
  }
};

/** Wire-compatible scalar groups (buf's tables, after protobuf's "Updating a message type"). */
const WIRE_GROUP: Record<string, number> = {
  int32: 1,
  int64: 1,
  uint32: 1,
  uint64: 1,
  bool: 1,
  sint32: 2,
  sint64: 2,
  string: 3,
  bytes: 4,
  fixed32: 5,
  sfixed32: 5,
  fixed64: 6,
  sfixed64: 6,
  double: 7,
  float: 8,
  message: 10,
  map: 10,
  enum: 11,
};
/** The intersection of wire and JSON compatibility: JSON spells 64-bit integers as strings, bools as true/false. */
const WIRE_JSON_GROUP: Record<string, number> = {
  int32: 1,
  uint32: 1,
  int64: 2,
  uint64: 2,
  fixed32: 3,
  sfixed32: 3,
  fixed64: 4,
  sfixed64: 4,
  bool: 5,
  sint32: 6,
  sint64: 7,
  string: 8,
  bytes: 9,
  double: 10,
  float: 11,
  message: 14,
  map: 14,
  enum: 15,
};
const groupKey = (f: ProtoField) => (f.kind === "scalar" ? f.type : f.kind);
const shortName = (name: string) => name.slice(name.lastIndexOf(".") + 1);

/** An enum may replace another on the wire if it has the same short name and every old value (number and names). */
function enumReplaces(before: ProtoPackage, after: ProtoPackage, oldName: string, newName: string): boolean {
  if (shortName(oldName) !== shortName(newName)) return false;
  const [a, b] = [before.enums[oldName], after.enums[newName]];
  if (!a || !b) return false;
  return a.values.every((v) => b.values.some((w) => w.number === v.number && w.name === v.name));
}

function wireCompatible(groups: Record<string, number>, allowStringToBytes: boolean) {
  return (before: ProtoPackage, after: ProtoPackage, a: ProtoField, b: ProtoField): boolean => {
    if (groups[groupKey(a)] !== groups[groupKey(b)]) return allowStringToBytes && a.type === "string" && b.type === "bytes";
    if (a.kind === "enum" && b.kind === "enum" && a.type !== b.type) return enumReplaces(before, after, a.type, b.type);
    if (a.kind !== "scalar" && a.kind !== "enum" && a.type !== b.type) return false;
    return true;
  };
}
const wireOk = wireCompatible(WIRE_GROUP, true);
const wireJsonOk = wireCompatible(WIRE_JSON_GROUP, false);

/** The rules comparing one field number in both versions: name, JSON name, label, oneof, type, ctype, jstype. */
const fieldsChanged: Rule = (before, after, out) => {
  for (const [name, m0, m1] of both(before.messages, after.messages)) {
    const now = new Map(m1.fields.map((f) => [f.number, f]));
    for (const a of m0.fields) {
      const b = now.get(a.number);
      if (!b) continue;
      const location = `${name}.${a.name}`;
      const ref = fieldRef(name, a);
      if (a.name !== b.name) out.add("FIELD_SAME_NAME", "rename", location, `The ${ref} was renamed to "${b.name}"`);
      if (a.jsonName !== b.jsonName)
        out.add("FIELD_SAME_JSON_NAME", "replace", location, `The ${ref} changed its JSON name from "${a.jsonName}" to "${b.jsonName}"`);
      if (a.label !== b.label) out.add("FIELD_SAME_LABEL", "replace", location, `The ${ref} changed label from ${a.label} to ${b.label}`);
      if ((a.oneof ?? null) !== (b.oneof ?? null))
        out.add(
          "FIELD_SAME_ONEOF",
          "replace",
          location,
          `The ${ref} moved from ${a.oneof ? `oneof ${a.oneof}` : "no oneof"} to ${b.oneof ? `oneof ${b.oneof}` : "no oneof"}`,
        );
      if (a.type !== b.type) {
        const sentence = `The ${ref} changed type from ${a.type} to ${b.type}`;
        out.add("FIELD_SAME_TYPE", "replace", location, sentence);
        if (!wireOk(before, after, a, b)) out.add("FIELD_WIRE_COMPATIBLE_TYPE", "replace", location, sentence);
        if (!wireJsonOk(before, after, a, b)) out.add("FIELD_WIRE_JSON_COMPATIBLE_TYPE", "replace", location, sentence);
        // A type that stays the same in every category (nothing fired) still changed.
        out.add(null, "replace", location, sentence);
      }
      if ((a.ctype ?? null) !== (b.ctype ?? null))
        out.add(
          "FIELD_SAME_CTYPE",
          "replace",
          location,
          `The ${ref} changed option ctype from ${a.ctype ?? "STRING"} to ${b.ctype ?? "STRING"}`,
        );
      if ((a.jstype ?? null) !== (b.jstype ?? null))
        out.add(
          "FIELD_SAME_JSTYPE",
          "replace",
          location,
          `The ${ref} changed option jstype from ${a.jstype ?? "JS_NORMAL"} to ${b.jstype ?? "JS_NORMAL"}`,
        );
    }
  }
};

/** MESSAGE_SAME_REQUIRED_FIELDS, ONEOF_NO_DELETE, RESERVED_MESSAGE_NO_DELETE, EXTENSION_MESSAGE_NO_DELETE and the message options. */
const messagesChanged: Rule = (_before, _after, out) => {
  for (const [name, a, b] of both(_before.messages, _after.messages)) {
    const required = (m: ProtoMessage) => new Set(m.fields.filter((f) => f.label === "required").map((f) => f.number));
    const [r0, r1] = [required(a), required(b)];
    for (const n of r0)
      if (!r1.has(n)) out.add("MESSAGE_SAME_REQUIRED_FIELDS", "remove", name, `Message ${name} no longer requires field ${n}`);
    for (const n of r1) if (!r0.has(n)) out.add("MESSAGE_SAME_REQUIRED_FIELDS", "add", name, `Message ${name} now requires field ${n}`);
    for (const o of a.oneofs)
      if (!b.oneofs.includes(o)) out.add("ONEOF_NO_DELETE", "remove", `${name}.${o}`, `Oneof ${o} of message ${name} was deleted`);
    for (const r of a.reserved.ranges)
      if (!covered(b.reserved.ranges, r))
        out.add("RESERVED_MESSAGE_NO_DELETE", "remove", name, `Message ${name} no longer reserves field numbers ${rangeText(r)}`);
    for (const n of a.reserved.names)
      if (!b.reserved.names.includes(n))
        out.add("RESERVED_MESSAGE_NO_DELETE", "remove", name, `Message ${name} no longer reserves field name "${n}"`);
    for (const r of a.extensions)
      if (!covered(b.extensions, r))
        out.add("EXTENSION_MESSAGE_NO_DELETE", "remove", name, `Message ${name} no longer has extension range ${rangeText(r)}`);
    if (a.messageSetWireFormat !== b.messageSetWireFormat)
      out.add(
        "MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT",
        "replace",
        name,
        `Message ${name} changed option message_set_wire_format from ${a.messageSetWireFormat} to ${b.messageSetWireFormat}`,
      );
    if (!a.noStandardDescriptorAccessor && b.noStandardDescriptorAccessor)
      out.add(
        "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR",
        "replace",
        name,
        `Message ${name} set option no_standard_descriptor_accessor, removing its descriptor accessor`,
      );
    for (const n of b.reserved.names)
      if (!a.reserved.names.includes(n)) out.add(null, "add", name, `Message ${name} now reserves field name "${n}"`);
    for (const r of b.reserved.ranges)
      if (!covered(a.reserved.ranges, r)) out.add(null, "add", name, `Message ${name} now reserves field numbers ${rangeText(r)}`);
  }
};

/** ENUM_VALUE_NO_DELETE (and its WIRE forms), ENUM_VALUE_SAME_NAME, RESERVED_ENUM_NO_DELETE, ENUM_SAME_TYPE; values added. */
const enumsChanged: Rule = (before, after, out) => {
  for (const [name, a, b] of both(before.enums, after.enums)) {
    const namesOf = (e: ProtoEnum, n: number) => e.values.filter((v) => v.number === n).map((v) => v.name);
    for (const n of new Set(a.values.map((v) => v.number))) {
      const [old, now] = [namesOf(a, n), namesOf(b, n)];
      const location = `${name}.${old[0]}`;
      if (now.length === 0) {
        const sentence = `Enum value ${n} (${old.join(", ")}) of enum ${name} was deleted`;
        out.add("ENUM_VALUE_NO_DELETE", "remove", location, sentence);
        if (!inRanges(b.reserved.ranges, n)) out.add("ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", "remove", location, sentence);
        if (!old.some((v) => b.reserved.names.includes(v)))
          out.add("ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", "remove", location, sentence);
      } else if (!old.every((v) => now.includes(v)))
        out.add(
          "ENUM_VALUE_SAME_NAME",
          "rename",
          location,
          `Enum value ${n} of enum ${name} changed name from ${old.join(", ")} to ${now.join(", ")}`,
        );
      else
        for (const alias of now.filter((v) => !old.includes(v)))
          out.add(null, "add", `${name}.${alias}`, `Enum value ${n} of enum ${name} gained the alias ${alias}`);
    }
    const oldNumbers = new Set(a.values.map((v) => v.number));
    for (const v of b.values)
      if (!oldNumbers.has(v.number))
        out.add(null, "add", `${name}.${v.name}`, `Enum value ${v.name} = ${v.number} was added to enum ${name}`);
    for (const r of a.reserved.ranges)
      if (!covered(b.reserved.ranges, r))
        out.add("RESERVED_ENUM_NO_DELETE", "remove", name, `Enum ${name} no longer reserves values ${rangeText(r)}`);
    for (const n of a.reserved.names)
      if (!b.reserved.names.includes(n)) out.add("RESERVED_ENUM_NO_DELETE", "remove", name, `Enum ${name} no longer reserves name "${n}"`);
    if (a.closed !== b.closed)
      out.add(
        "ENUM_SAME_TYPE",
        "replace",
        name,
        `Enum ${name} changed from ${a.closed ? "closed" : "open"} to ${b.closed ? "closed" : "open"}`,
      );
  }
};

/** RPC_NO_DELETE and the RPC_SAME_* rules (types, streaming on either side, idempotency); RPCs added. */
const rpcsChanged: Rule = (before, after, out) => {
  for (const [name, a, b] of both(before.services, after.services)) {
    const now = new Map(b.methods.map((m) => [m.name, m]));
    for (const m of a.methods) {
      const location = `${name}.${m.name}`;
      const n = now.get(m.name);
      if (!n) {
        out.add("RPC_NO_DELETE", "remove", location, `RPC ${m.name} of service ${name} was deleted`);
        continue;
      }
      const rpc = `RPC ${m.name} of service ${name}`;
      if (m.requestType !== n.requestType)
        out.add("RPC_SAME_REQUEST_TYPE", "replace", location, `${rpc} changed request type from ${m.requestType} to ${n.requestType}`);
      if (m.responseType !== n.responseType)
        out.add("RPC_SAME_RESPONSE_TYPE", "replace", location, `${rpc} changed response type from ${m.responseType} to ${n.responseType}`);
      if (m.clientStreaming !== n.clientStreaming)
        out.add(
          "RPC_SAME_CLIENT_STREAMING",
          "replace",
          location,
          `${rpc} ${n.clientStreaming ? "became" : "is no longer"} client streaming`,
        );
      if (m.serverStreaming !== n.serverStreaming)
        out.add(
          "RPC_SAME_SERVER_STREAMING",
          "replace",
          location,
          `${rpc} ${n.serverStreaming ? "became" : "is no longer"} server streaming`,
        );
      if (m.idempotencyLevel !== n.idempotencyLevel)
        out.add(
          "RPC_SAME_IDEMPOTENCY_LEVEL",
          "replace",
          location,
          `${rpc} changed idempotency_level from ${m.idempotencyLevel} to ${n.idempotencyLevel}`,
        );
    }
    const old = new Set(a.methods.map((m) => m.name));
    for (const m of b.methods)
      if (!old.has(m.name)) out.add(null, "add", `${name}.${m.name}`, `RPC ${m.name} was added to service ${name}`);
  }
};

const RULES: Rule[] = [
  filesDeleted,
  fileSettings,
  declarationsDeleted("Message", (p) => p.messages, "MESSAGE_NO_DELETE", "PACKAGE_MESSAGE_NO_DELETE"),
  declarationsDeleted("Enum", (p) => p.enums, "ENUM_NO_DELETE", "PACKAGE_ENUM_NO_DELETE"),
  declarationsDeleted("Service", (p) => p.services, "SERVICE_NO_DELETE", "PACKAGE_SERVICE_NO_DELETE"),
  fieldsDeleted,
  fieldsChanged,
  messagesChanged,
  enumsChanged,
  rpcsChanged,
];

/**
 * Every change from `before` to `after`. A change is breaking when it breaks a rule of the
 * contract's category; a change that breaks rules of stricter categories only is reported as
 * non-breaking, naming them (buf would not report it under this category).
 */
export function diffProtobuf(before: ProtoPackage, after: ProtoPackage, category: ProtobufCategory): Change[] {
  const out = new Findings();
  for (const rule of RULES) rule(before, after, out);
  const changes: Change[] = [];
  for (const f of out.byKey.values()) {
    const breaking = f.rules.filter((r) => categoriesOf(r).includes(category));
    let message = `${f.sentence}.`;
    if (breaking.length > 0) message += ` (${breaking.join(", ")})`;
    else if (f.rules.length > 0)
      message += ` Not breaking under ${category}; ${f.rules.map((r) => `${r} applies under ${categoriesOf(r).join(", ")}`).join("; ")}.`;
    changes.push({ level: breaking.length > 0 ? "breaking" : "non-breaking", action: f.action, location: f.location, message });
  }
  // Breaking first, then by place, so lists read the same whatever the rules' order.
  return changes.sort((a, b) => Number(b.level === "breaking") - Number(a.level === "breaking") || a.location.localeCompare(b.location));
}
