// Stands in for codemirror-json-schema's parsers/index, which also pulls in its JSON5 and YAML
// parsers (about 150 kB); the studio edits JSON only.
import { parseJSONDocumentState } from "codemirror-json-schema";

export const getDefaultParser = () => parseJSONDocumentState;
