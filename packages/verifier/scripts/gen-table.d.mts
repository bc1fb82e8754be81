/** Opening marker of the generated README section. */
export declare const START: string;
/** Closing marker of the generated README section. */
export declare const END: string;
/** The capability × scope table, markdown. */
export declare function capabilityTableMarkdown(): string;
/** The Rooms in-call operation × role table, markdown. */
export declare function roomRoleTableMarkdown(): string;
/** The whole generated README section, markers included. */
export declare function generatedSection(): string;
