import { Option, ParseResult, type Schema, SchemaAST as AST } from "effect"

type Check = (u: unknown) => boolean

const exact: AST.ParseOptions = { exact: true }

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const fallback = (ast: AST.AST): Check => {
  const is = ParseResult.is({ ast } as Schema.Schema<unknown>)
  return (u) => is(u)
}

const typeLiteral = (ast: AST.TypeLiteral): Check => {
  if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) return (u) => u !== null && u !== undefined
  const properties = ast.propertySignatures.map((ps) => ({ name: ps.name, optional: ps.isOptional, check: go(ps.type) }))
  const indexes = ast.indexSignatures.map((is) => ({ key: go(is.parameter), check: go(is.type), parameter: is.parameter }))
  if (indexes.some((i) => keyKind(i.parameter) !== "string")) return fallback(ast)
  return (u) => {
    if (!isRecord(u)) return false
    for (const p of properties) {
      if (!Object.prototype.hasOwnProperty.call(u, p.name)) {
        if (p.optional) continue
        return false
      }
      if (!p.check(u[p.name as string])) return false
    }
    for (const index of indexes) {
      for (const key of Object.keys(u)) if (index.key(key) && !index.check(u[key])) return false
    }
    return true
  }
}

const keyKind = (parameter: AST.AST): string =>
  parameter._tag === "Refinement" ? keyKind(parameter.from) : parameter._tag === "StringKeyword" ? "string" : parameter._tag

const go = (ast: AST.AST): Check => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "UnknownKeyword":
    case "AnyKeyword":
      return () => true
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "TypeLiteral":
      return typeLiteral(ast)
    case "Union": {
      const members = ast.types.map(go)
      return (u) => members.some((m) => m(u))
    }
    case "Refinement": {
      const from = go(ast.from)
      return (u) => from(u) && Option.isNone(ast.filter(u, exact, ast))
    }
    default:
      return fallback(ast)
  }
}

/**
 * `Schema.is`, compiled into plain closures for the shapes the hot paths
 * check (structs, records, primitives, literals, unions, filters): the
 * same answers (a property test holds them to `Schema.is`) at a fraction
 * of the cost, since no parse result is built. Other shapes use `Schema.is`.
 */
export const is = <A, I, R>(schema: Schema.Schema<A, I, R>): ((u: unknown) => u is A) => go(AST.typeAST(schema.ast)) as (u: unknown) => u is A
