// Records json-logic-js results for jsonlogic_cases.json into jsonlogic_vectors.json.
// See make_jsonlogic_cases.py for how to run it.
const fs = require("fs");
const path = require("path");
const jsonLogic = require("json-logic-js");

function enc(v) {
  if (v === undefined) return null;
  if (typeof v === "number") {
    if (Number.isNaN(v)) return { $num: "NaN" };
    if (!Number.isFinite(v)) return { $num: v > 0 ? "Infinity" : "-Infinity" };
    return Object.is(v, -0) ? 0 : v;
  }
  if (Array.isArray(v)) return v.map(enc);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]));
  }
  return v;
}

const input = JSON.parse(fs.readFileSync(path.join(__dirname, "jsonlogic_cases.json"), "utf8"));
const data = input.data;
const out = input.logics.map((logic) => {
  try {
    const result = jsonLogic.apply(logic, JSON.parse(JSON.stringify(data)));
    return { logic, result: enc(result), truthy: jsonLogic.truthy(result) };
  } catch (e) {
    return { logic, error: String(e.message || e) };
  }
});
fs.writeFileSync(
  path.join(__dirname, "jsonlogic_vectors.json"),
  JSON.stringify({ library: "json-logic-js@2.0.5", data, cases: out }, null, 0).replace(/\},\{"logic"/g, '},\n{"logic"'),
);
fs.unlinkSync(path.join(__dirname, "jsonlogic_cases.json"));  // an intermediate
console.log(`${out.length} cases recorded`);
