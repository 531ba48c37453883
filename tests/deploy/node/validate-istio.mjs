// Validates Istio objects offline: against Istio's CRD schemas (@kubernetes-models/istio),
// then field names, which those schemas do not check (they accept unknown fields, so a
// misspelt `credentialname` would pass). Field names come from the package's own type
// declarations (generated from the same CRDs).
// Input: a JSON array of objects on stdin. Output: a JSON array of problems on stdout.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(join(process.cwd(), "package.json"));
const packageDir = dirname(require.resolve("@kubernetes-models/istio/package.json"));

function modelPath(apiVersion, kind) {
  const [group, version] = apiVersion.split("/");
  return join(packageDir, group, version, kind);
}

// The key tree of a TypeScript declaration: {keys: Map(name -> tree), open: bool}.
function keyTree(declaration) {
  const source = declaration.replace(/\/\*[\s\S]*?\*\//g, "");
  const start = source.indexOf("export interface I");
  const body = source.slice(source.indexOf("{", start));
  const root = { keys: new Map(), open: false };
  const stack = [];
  let current = null;
  let pendingKey = null;
  const token = /"([^"]+)"\??:|\[key: string\]:|\{|\}|;/g;
  let match;
  while ((match = token.exec(body)) !== null) {
    const text = match[0];
    if (text === "{") {
      const node = { keys: new Map(), open: false };
      if (current === null) {
        current = root;
      } else {
        if (pendingKey === "*") current.open = true;
        else if (pendingKey !== null) current.keys.set(pendingKey, node);
        stack.push(current);
        current = node;
      }
      pendingKey = null;
    } else if (text === "}") {
      if (stack.length === 0) break;
      current = stack.pop();
      pendingKey = null;
    } else if (text === ";") {
      pendingKey = null;
    } else if (text.startsWith("[key")) {
      current.open = true;
      pendingKey = "*";
    } else {
      pendingKey = match[1];
      if (!current.keys.has(pendingKey)) current.keys.set(pendingKey, null);
    }
  }
  return root;
}

function unknownFields(value, tree, path, problems) {
  if (Array.isArray(value)) {
    value.forEach((item, index) => unknownFields(item, tree, `${path}[${index}]`, problems));
    return;
  }
  // A node declared `{}` (EnvoyFilter's patch value, a free-form protobuf Struct) takes any key.
  if (value === null || typeof value !== "object" || tree === null || tree.open) return;
  if (tree.keys.size === 0) return;
  for (const [key, child] of Object.entries(value)) {
    if (!tree.keys.has(key)) {
      problems.push(`${path}.${key}: unknown field`);
    } else {
      unknownFields(child, tree.keys.get(key), `${path}.${key}`, problems);
    }
  }
}

const objects = JSON.parse(readFileSync(0, "utf8"));
const problems = [];
for (const object of objects) {
  const name = `${object.kind}/${object.metadata?.name}`;
  const base = modelPath(object.apiVersion, object.kind);
  let module;
  try {
    module = await import(`${base}.js`);
  } catch {
    problems.push(`${name}: no Istio schema for ${object.apiVersion} ${object.kind}`);
    continue;
  }
  try {
    new module[object.kind](object).validate();
  } catch (error) {
    problems.push(`${name}: ${error.message}`);
  }
  const tree = keyTree(readFileSync(`${base}.d.ts`, "utf8"));
  const fieldProblems = [];
  unknownFields(object.spec ?? {}, tree.keys.get("spec"), "spec", fieldProblems);
  problems.push(...fieldProblems.map((problem) => `${name}: ${problem}`));
}
process.stdout.write(JSON.stringify(problems));
