/** Where managed secrets live: the project's global secrets, plus the given regions. */
export function secretParents(projectId: string, locations: readonly string[]): string[] {
  return [`projects/${projectId}`, ...locations.map((l) => `projects/${projectId}/locations/${l}`)];
}
