import { parser } from "@prometheus-io/lezer-promql"
const q = process.argv[2]
const tree = parser.parse(q)
let out = []
tree.iterate({ enter(n) { out.push(`${"  ".repeat(0)}${n.name}[${n.from},${n.to}] ${JSON.stringify(q.slice(n.from,n.to)).slice(0,50)}`) } })
console.log(out.join("\n"))
