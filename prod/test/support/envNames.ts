/**
 * Finds the environment variables a TypeScript program reads, from its syntax tree (comments and strings
 * that merely mention a name do not count), and the variables deployment files reference or document.
 *
 * Reads recognised in source:
 * - Effect `Config` constructors: `Config.String("NAME")`, `Config.Literals([...], "NAME")`,
 *   `Config.schema(S, "NAME")`, ... (any call on the `Config` module, however it is imported or aliased),
 *   with `Config.nested(c, "PREFIX")` / `c.pipe(Config.nested("PREFIX"))` prefixing `PREFIX_`;
 * - `process.env.NAME`, `process.env["NAME"]`, `const { NAME } = process.env`;
 * - the same accesses on any `env` record (`env.NAME`, `options.env["NAME"]`, `processEnv.NAME`);
 * - oclif-style flag options `{ env: "NAME" }`;
 * - calls of local helpers that pass a parameter on to any of the above
 *   (`const duration = (variable: string) => Config.Duration(variable)...` then `duration("NAME")`),
 *   followed through helpers that call helpers.
 * Names are the conventional upper-case ones (`[A-Z][A-Z0-9_]*`); anything computed at run time (a
 * template with substitutions, a variable) cannot be known statically and is not reported.
 */
import ts from "typescript"

/** Where a variable is read: file path and 1-based line. */
export interface Read {
  readonly name: string
  readonly file: string
  readonly line: number
}

const envName = /^[A-Z][A-Z0-9_]*$/

const literalText = (node: ts.Node | undefined): string | undefined =>
  node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined

/** Local names bound to Effect's `Config` module in a source file (`Config`, `C` in `{ Config as C }`, `* as Config`). */
const configAliases = (file: ts.SourceFile): ReadonlySet<string> => {
  const names = new Set<string>(["Config"])
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) || !statement.importClause) continue
    const from = literalText(statement.moduleSpecifier) ?? ""
    const bindings = statement.importClause.namedBindings
    if (bindings && ts.isNamespaceImport(bindings) && /(^|\/)Config(\.js)?$/.test(from)) names.add(bindings.name.text)
    if (bindings && ts.isNamedImports(bindings)) {
      for (const element of bindings.elements) {
        if ((element.propertyName ?? element.name).text === "Config") names.add(element.name.text)
      }
    }
  }
  return names
}

const isEnvRecord = (node: ts.Expression): boolean => {
  if (ts.isPropertyAccessExpression(node)) {
    if (node.name.text === "env" && ts.isIdentifier(node.expression) && node.expression.text === "process") return true
    return /(^env$|Env$)/.test(node.name.text)
  }
  return ts.isIdentifier(node) && /(^env$|Env$)/.test(node.text)
}

/** `Config` functions that take no variable name (their string arguments are messages or values). */
const combinators = new Set([
  "all", "fail", "succeed", "sync", "suspend", "map", "mapOrFail", "mapEffect", "flatMap", "orElse", "option", "withDefault",
  "unwrap", "isConfig", "nested", "validate", "withDescription", "zip", "zipWith", "tuple", "struct", "filter"
])

/** A function-like node's parameter names, when it is a local helper (declaration or `const f = (...) =>`). */
const helperOf = (node: ts.Node): { readonly name: string; readonly fn: ts.SignatureDeclaration & { body?: ts.Node | undefined } } | undefined => {
  if (ts.isFunctionDeclaration(node) && node.name && node.body) return { name: node.name.text, fn: node }
  if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer &&
    (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))) {
    return { name: node.name.text, fn: node.initializer }
  }
  return undefined
}

/** Environment variables read by one TypeScript source text. */
export const envReadsInSource = (fileName: string, text: string): ReadonlyArray<Read> => {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const aliases = configAliases(file)
  const configCall = (node: ts.Node): node is ts.CallExpression & { readonly expression: ts.PropertyAccessExpression } =>
    ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ts.isIdentifier(node.expression.expression) &&
    aliases.has(node.expression.expression.text)
  const nestedPrefix = (node: ts.Node): string | undefined =>
    configCall(node) && (node.expression as ts.PropertyAccessExpression).name.text === "nested" && node.arguments.length === 1
      ? literalText(node.arguments[0])
      : undefined

  // Local helpers: name -> indexes of the parameters that end up as variable names. Found to a fixpoint,
  // so a helper calling a helper counts too.
  const helpers = new Map<string, ReadonlySet<number>>()
  const candidates: Array<{ name: string; fn: ts.SignatureDeclaration & { body?: ts.Node | undefined } }> = []
  const collect = (node: ts.Node): void => {
    const helper = helperOf(node)
    if (helper) candidates.push(helper)
    ts.forEachChild(node, collect)
  }
  collect(file)
  const nameArguments = (call: ts.CallExpression): ReadonlyArray<ts.Expression> => {
    if (configCall(call)) return combinators.has(call.expression.name.text) ? [] : [...call.arguments]
    const callee = ts.isIdentifier(call.expression) ? helpers.get(call.expression.text) : undefined
    return callee ? call.arguments.filter((_, i) => callee.has(i)) : []
  }
  for (let changed = true; changed;) {
    changed = false
    for (const { name, fn } of candidates) {
      const params = fn.parameters.map((p) => (ts.isIdentifier(p.name) ? p.name.text : ""))
      const used = new Set<number>(helpers.get(name) ?? [])
      const before = used.size
      const scan = (node: ts.Node): void => {
        if (ts.isCallExpression(node)) {
          for (const arg of nameArguments(node)) if (ts.isIdentifier(arg) && params.includes(arg.text)) used.add(params.indexOf(arg.text))
        }
        if (ts.isElementAccessExpression(node) && isEnvRecord(node.expression) && ts.isIdentifier(node.argumentExpression) && params.includes(node.argumentExpression.text)) {
          used.add(params.indexOf(node.argumentExpression.text))
        }
        ts.forEachChild(node, scan)
      }
      if (fn.body) scan(fn.body)
      if (used.size > before) {
        helpers.set(name, used)
        changed = true
      }
    }
  }

  const out: Array<Read> = []
  const add = (name: string, at: ts.Node) => {
    if (envName.test(name)) out.push({ name, file: fileName, line: file.getLineAndCharacterOfPosition(at.getStart(file)).line + 1 })
  }

  const visit = (node: ts.Node, prefix: string): void => {
    if (configCall(node)) {
      const method = (node.expression as ts.PropertyAccessExpression).name.text
      const [first, second] = node.arguments
      const nestedName = method === "nested" && node.arguments.length === 2 ? literalText(second) : undefined
      if (nestedName !== undefined && first) return visit(first, `${prefix}${nestedName}_`)
      for (const arg of nameArguments(node)) { const t = literalText(arg); if (t !== undefined) add(prefix + t, arg) }
      return ts.forEachChild(node, (child) => visit(child, prefix))
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && helpers.has(node.expression.text)) {
      for (const arg of nameArguments(node)) { const t = literalText(arg); if (t !== undefined) add(prefix + t, arg) }
    }
    // x.pipe(..., Config.nested("P"), ...): the prefix applies to the names read inside x.
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === "pipe") {
      const prefixes = node.arguments.map(nestedPrefix).filter((p): p is string => p !== undefined)
      if (prefixes.length > 0) {
        const inner = prefixes.reduce((acc, p) => `${p}_${acc}`, "")
        visit(node.expression.expression, `${prefix}${inner}`)
        for (const arg of node.arguments) if (nestedPrefix(arg) === undefined) visit(arg, prefix)
        return
      }
    }
    if (ts.isPropertyAccessExpression(node) && isEnvRecord(node.expression)) add(node.name.text, node.name)
    if (ts.isElementAccessExpression(node) && isEnvRecord(node.expression)) {
      const t = literalText(node.argumentExpression)
      if (t !== undefined) add(t, node.argumentExpression)
    }
    if (ts.isVariableDeclaration(node) && node.initializer && isEnvRecord(node.initializer) && ts.isObjectBindingPattern(node.name)) {
      for (const element of node.name.elements) {
        const key = element.propertyName ?? element.name
        if (ts.isIdentifier(key) || ts.isStringLiteral(key)) add(key.text, key)
      }
    }
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) && node.name.text === "env") {
      const t = literalText(node.initializer)
      if (t !== undefined) add(t, node.initializer)
    }
    ts.forEachChild(node, (child) => visit(child, prefix))
  }
  visit(file, "")
  return out
}

/**
 * A YAML text without its prose comments, keeping commented-out settings (`# access_key: ${KEY}`): a
 * variable in an example setting is one an operator may enable, a `${VAR}` in an explanation is not.
 */
export const withoutYamlProse = (text: string): string =>
  text
    .split("\n")
    .map((line) => {
      const setting = /^(\s*)#\s?((?:- )?[a-z_][a-z0-9_]*:\s.*)$/.exec(line)
      if (setting) return `${setting[1]}${setting[2]}`
      return line.replace(/(^|\s)#.*$/, "")
    })
    .join("\n")

/** `${VAR}`, `${VAR:-default}`, `${VAR:?message}` references in a compose file or scanners.yaml (`$${` is literal). */
export const dollarBraceReferences = (text: string): ReadonlyArray<string> =>
  [...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+][^}]*)?\}/g)].map((m) => m[1]!)

/** One variable of an env file. */
export interface EnvEntry {
  readonly name: string
  /** The value on the line (`undefined` for a commented-out `# NAME=` line: documented but unset). */
  readonly value: string | undefined
  readonly line: number
  /** The comment lines directly above it. */
  readonly doc: ReadonlyArray<string>
}

/** Parses an env file in the documented style: comment block, then `NAME=value` or `# NAME=value`. */
export const parseEnvFile = (text: string): ReadonlyArray<EnvEntry> => {
  const out: Array<EnvEntry> = []
  let doc: Array<string> = []
  text.split("\n").forEach((raw, index) => {
    const line = raw.trimEnd()
    const active = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    const commented = /^#\s?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line)
    if (active || commented) {
      out.push({ name: (active ?? commented)![1]!, value: active ? active[2]! : undefined, line: index + 1, doc })
      doc = []
    } else if (line.startsWith("#")) {
      doc.push(line.replace(/^#\s?/, ""))
    } else {
      doc = []
    }
  })
  return out
}
