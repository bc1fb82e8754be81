/** The label value that stands for every value beyond a {@link boundedLabel}'s cap. */
export const OVERFLOW_LABEL = 'other';

/**
 * Keeps a label's cardinality bounded: the first `max` distinct values pass through, every later one becomes
 * {@link OVERFLOW_LABEL}. For labels whose values are normally few but are not closed sets (bearer principals).
 */
export function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return OVERFLOW_LABEL;
    seen.add(value);
    return value;
  };
}
