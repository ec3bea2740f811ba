/** The toolkit's version, checked against each plugin's `lxkit` range. Kept in step with package.json by a test. */
export const VERSION = '0.1.0';
