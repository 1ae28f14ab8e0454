import type { Generation, GenerationVersions } from '@atelier/contracts';

export interface VersionRow {
  generation: Generation;
  /** Branch depth: 0 for the main line; a fork (a second refinement of the same image) is indented. */
  depth: number;
  /** 1-based order of creation within the graph ("v3"). */
  number: number;
  /** First version of a fork, drawn with an elbow. */
  isForkStart: boolean;
}

/**
 * Lays a version graph out as rows, oldest first: a refinement that is its parent's only child continues
 * the same line (a chain of edits does not staircase), and each further child of a version opens an
 * indented branch under it. Versions whose parent is not in the graph start their own line.
 */
export function layoutVersions(versions: GenerationVersions): VersionRow[] {
  const byId = new Map(versions.data.map((g) => [g.id, g]));
  const byAge = [...versions.data].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  const numbers = new Map(byAge.map((g, i) => [g.id, i + 1]));
  const children = new Map<string, Generation[]>();
  const hasParent = new Set<string>();
  for (const edge of versions.edges) {
    const child = byId.get(edge.child);
    if (!child || !byId.has(edge.parent) || hasParent.has(edge.child)) continue;
    hasParent.add(edge.child);
    children.set(edge.parent, [...(children.get(edge.parent) ?? []), child]);
  }
  for (const list of children.values()) list.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));

  const rows: VersionRow[] = [];
  const seen = new Set<string>();
  const walk = (g: Generation, depth: number, isForkStart: boolean) => {
    if (seen.has(g.id)) return; // a malformed graph with a cycle must not hang the dialog
    seen.add(g.id);
    rows.push({ generation: g, depth, number: numbers.get(g.id) ?? 0, isForkStart });
    const kids = children.get(g.id) ?? [];
    // Forks first, indented, then the first child continues this line: the main line reads top to bottom.
    kids.slice(1).forEach((kid) => walk(kid, depth + 1, true));
    if (kids[0]) walk(kids[0], depth, false);
  };
  byAge.filter((g) => !hasParent.has(g.id)).forEach((root) => walk(root, 0, false));
  // A cycle has no root: whatever is left starts its own line, so every version is listed.
  byAge.forEach((g) => walk(g, 0, false));
  return rows;
}
