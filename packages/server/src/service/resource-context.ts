/** Facts about the served resource every operation needs; fixed for the life of a process. */
export interface ResourceContext {
  readonly resourceId: string;
  readonly location: string;
  /** The `rgn` claim, derived from the location. */
  readonly region: string;
  readonly issuer: string;
  readonly audience: string;
}

const REGIONS: Readonly<Record<string, string>> = {
  unitedstates: 'amer',
  canada: 'amer',
  brazil: 'amer',
  europe: 'emea',
  uk: 'emea',
  france: 'emea',
  germany: 'emea',
  norway: 'emea',
  switzerland: 'emea',
  sweden: 'emea',
  uae: 'emea',
  africa: 'emea',
  asiapacific: 'apac',
  australia: 'apac',
  japan: 'apac',
  korea: 'apac',
  india: 'apac',
};

/** The `rgn` claim for an ACS data location (`unitedstates` → `amer`); unknown locations map to themselves. */
export function regionOf(location: string): string {
  return REGIONS[location] ?? location;
}

/** .NET `DateTimeOffset` style as the service emits: `2025-07-10T21:39:39.3240000+00:00`. */
export function formatServiceDate(ms: number): string {
  // Tokens issued in the same second share their expiry: the last answer is kept.
  if (ms !== lastDate.ms) {
    lastDate = { ms, text: `${new Date(ms).toISOString().slice(0, -1)}0000+00:00` }; // …27.123Z → …27.1230000+00:00
  }
  return lastDate.text;
}

let lastDate = { ms: Number.NaN, text: '' };
