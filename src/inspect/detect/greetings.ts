/** The words that open a letter's greeting before its reader's name, in the languages the detectors read ("Dear", "Hi", "Hola", "Sehr geehrte"). Pure data. */
export const GREETING_WORDS = String.raw`(?:dear|hi|hello|hey|good\s+(?:morning|afternoon|evening)|hola|buenos\s+d[ií]as|estimad[oa]|querid[oa]|bonjour|bonsoir|ch[eè]re?|hallo|guten\s+tag|liebe[r]?|sehr\s+geehrte[r]?)`;
