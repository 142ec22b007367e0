// The configuration studio's code editor: replaces <textarea data-editor="json|html|css"> with a
// CodeMirror 6 editor. The textarea stays the form field (kept hidden, its value updated on every
// change and on submit), so the page works the same without this script.
//
// The editor lives in a shadow root: CodeMirror injects its styles at run time, into a <style> element
// on a document (which the page's CSP, style-src 'self' without a nonce, refuses) but as a constructed
// stylesheet (adoptedStyleSheets, which CSP does not govern) in a shadow root.
//
// Contract with the page (server/admin, the lead's templates):
//   textarea[data-editor]        json | html | css
//   textarea[data-schema-url]    json only, optional: a JSON Schema for completion and hover docs
//   script#config-problems       [{line, column, message, pointer}] from the last save (1-based)
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  EditorView, crosshairCursor, drawSelection, dropCursor, highlightActiveLine, highlightActiveLineGutter,
  highlightSpecialChars, hoverTooltip, keymap, lineNumbers, rectangularSelection,
} from "@codemirror/view";
import {
  bracketMatching, defaultHighlightStyle, foldGutter, foldKeymap, indentOnInput, syntaxHighlighting,
} from "@codemirror/language";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import {
  autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap,
} from "@codemirror/autocomplete";
import { forceLinting, lintGutter, lintKeymap, linter } from "@codemirror/lint";
import { json, jsonLanguage, jsonParseLinter } from "@codemirror/lang-json";
import { html } from "@codemirror/lang-html";
import { css } from "@codemirror/lang-css";
import { disableErrorLogging } from "best-effort-json-parser";
import {
  getJsonPointers, jsonCompletion, jsonSchemaHover, stateExtensions, updateSchema,
} from "codemirror-json-schema";

// Completion parses half-typed JSON with best-effort-json-parser, which otherwise logs each
// leftover as a console error.
disableErrorLogging();

// CodeMirror's own UI words (search panel, lint panel, folding, screen-reader announcements).
const PHRASES = {
  "Find": "查找", "Replace": "替换", "next": "下一个", "previous": "上一个", "all": "全部",
  "match case": "区分大小写", "regexp": "正则表达式", "by word": "全词匹配", "replace": "替换",
  "replace all": "全部替换", "close": "关闭", "current match": "当前匹配", "on line": "位于第",
  "replaced $ matches": "已替换 $ 处", "replaced match on line $": "已替换第 $ 行的匹配",
  "Go to line": "转到行", "go": "转到", "Folded lines": "已折叠", "Unfolded lines": "已展开",
  "Fold line": "折叠", "Unfold line": "展开", "folded code": "已折叠的代码", "unfold": "展开", "to": "至",
  "Diagnostics": "问题", "No diagnostics": "没有问题", "Selection deleted": "已删除选中内容",
  "Completions": "补全建议", "Control character": "控制字符",
};

// Monospace first for code, then a CJK face so Chinese strings render (and keep their width).
const FONT = '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, "Noto Sans Mono CJK SC", ' +
  '"Noto Sans CJK SC", "Microsoft YaHei", monospace';

const studioTheme = EditorView.theme({
  "&": {
    height: "70vh", maxWidth: "100%", border: "1px solid #ced4da", borderRadius: "4px",
    backgroundColor: "#fff", fontSize: "14px",
  },
  "&.cm-focused": { outline: "2px solid #86b7fe", outlineOffset: "0" },
  ".cm-scroller": { fontFamily: FONT, lineHeight: "1.5", overflow: "auto" },
  ".cm-tooltip": { maxWidth: "min(40em, 90vw)" },
  ".cm-tooltip-lint, .cm6-json-schema-hover": { fontFamily: "inherit", whiteSpace: "pre-wrap" },
  ".cm6-json-schema-hover": { padding: "4px 8px" },
  ".cm6-json-schema-hover--code": { fontFamily: FONT, color: "#555" },
  ".cm-panels": { fontSize: "14px" },
  ".cm-panel.cm-search": { display: "flex", flexWrap: "wrap", gap: "4px", alignItems: "center" },
});

// --- Problems the server found at the last save, kept at their places while the text is edited ---

const mapProblems = StateEffect.define();

function problemDiagnostics(state, problems) {
  const doc = state.doc;
  let pointers = null;
  const found = [];
  for (const problem of problems) {
    let from = 0;
    let to = 0;
    if (Number.isInteger(problem.line) && problem.line >= 1) {
      const line = doc.line(Math.min(problem.line, doc.lines));
      const column = Number.isInteger(problem.column) && problem.column >= 1 ? problem.column : 1;
      from = line.from + Math.min(column - 1, line.length);
      to = line.to > from ? line.to : from;
    } else if (typeof problem.pointer === "string") {
      // No line known: place it at the member the pointer names, if the text has it.
      pointers = pointers || getJsonPointers(state, "json4");
      const at = pointers.get(problem.pointer);
      if (at) {
        from = at.keyFrom ?? at.valueFrom;
        to = at.valueTo ?? at.keyTo ?? from;
      }
    }
    found.push({ from, to, severity: "error", source: "保存时检查", message: String(problem.message || "") });
  }
  return found;
}

// The diagnostics themselves live in a field, mapped through every change: the lint source below
// hands them back each time it runs, next to the live JSON syntax errors.
const problemsField = StateField.define({
  create: () => [],
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(mapProblems)) value = effect.value;
    if (!tr.docChanged || value.length === 0) return value;
    return value.map((d) => {
      const from = tr.changes.mapPos(d.from, 1);
      return { ...d, from, to: Math.max(from, tr.changes.mapPos(d.to, -1)) };
    });
  },
});

function readProblems() {
  const script = document.getElementById("config-problems");
  if (!script) return [];
  try {
    const problems = JSON.parse(script.textContent || "[]");
    return Array.isArray(problems) ? problems.filter((p) => p && typeof p === "object") : [];
  } catch (error) {
    console.warn("config-problems is not JSON", error);
    return [];
  }
}

// --- Languages ---

function jsonSyntaxLinter() {
  const parse = jsonParseLinter();
  return (view) => parse(view).map((d) => ({ ...d, message: `JSON 语法错误：${d.message}` }));
}

function languageExtensions(kind) {
  if (kind === "html") return [html()];
  if (kind === "css") return [css()];
  return [
    json(),
    jsonLanguage.data.of({ autocomplete: jsonCompletion() }),
    hoverTooltip(jsonSchemaHover()),
    stateExtensions(undefined), // the schema arrives later (loadSchema)
  ];
}

function lintSource(kind) {
  const syntax = kind === "json" ? jsonSyntaxLinter() : null;
  return (view) => [...view.state.field(problemsField), ...(syntax ? syntax(view) : [])];
}

// codemirror-json-schema reads schemas as draft-07 (json-schema-library), where "$ref" replaces its
// object; our schemas are 2020-12, where "$ref" sits beside other keywords (a form meta-schema's root
// is {"$ref": "#/$defs/section", "properties": ...}). Rewrite such objects as allOf of the two, which
// means the same in both drafts.
export function refsBesideKeywords(schema) {
  if (Array.isArray(schema)) return schema.map(refsBesideKeywords);
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) out[key] = refsBesideKeywords(value);
  const keywords = Object.keys(out).filter((key) => !["$ref", "$defs", "definitions", "$schema", "$id",
    "title", "description"].includes(key));
  if (typeof out.$ref !== "string" || keywords.length === 0) return out;
  const { $ref, ...rest } = out;
  return { ...rest, allOf: [...(Array.isArray(rest.allOf) ? rest.allOf : []), { $ref }] };
}

async function loadSchema(view, url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    updateSchema(view, refsBesideKeywords(await response.json()));
  } catch (error) {
    console.warn(`无法载入 ${url}，编辑器不提供补全`, error);
  }
}

// --- The editor ---

function labelFor(textarea) {
  const label = textarea.id && document.querySelector(`label[for="${CSS.escape(textarea.id)}"]`);
  return (label && label.textContent.trim()) || textarea.getAttribute("aria-label") || "配置文件";
}

export function attach(textarea) {
  const kind = ["json", "html", "css"].includes(textarea.dataset.editor) ? textarea.dataset.editor : "json";
  const sync = EditorView.updateListener.of((update) => {
    if (update.docChanged) {
      textarea.value = update.state.doc.toString();
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });
  const state = EditorState.create({
    doc: textarea.value,
    extensions: [
      lineNumbers(), highlightActiveLineGutter(), foldGutter(), lintGutter(),
      highlightSpecialChars(), history(), drawSelection(), dropCursor(),
      EditorState.allowMultipleSelections.of(true), indentOnInput(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }), bracketMatching(), closeBrackets(),
      autocompletion(), rectangularSelection(), crosshairCursor(), highlightActiveLine(),
      highlightSelectionMatches(),
      keymap.of([
        ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...foldKeymap,
        ...completionKeymap, ...lintKeymap, indentWithTab,
      ]),
      EditorState.phrases.of(PHRASES),
      EditorView.contentAttributes.of({ "aria-label": labelFor(textarea) }),
      studioTheme,
      problemsField,
      linter(lintSource(kind)),
      languageExtensions(kind),
      sync,
    ],
  });
  const host = document.createElement("div");
  host.className = "studio-editor";
  const root = host.attachShadow({ mode: "open" });
  const view = new EditorView({ state, root, parent: root });
  textarea.hidden = true;
  textarea.style.display = "none"; // also where page CSS gives textareas a display (CSSOM: CSP allows it)
  textarea.after(host);
  for (const label of textarea.labels || []) label.addEventListener("click", () => view.focus());

  // Show the saved problems at once: the lint source runs now rather than after its idle delay, and
  // then only after edits. (A second run at the delay would hide a problem's tooltip the user is
  // already hovering: the lint tooltip closes on every new set of diagnostics.)
  const problems = problemDiagnostics(view.state, readProblems());
  if (problems.length) view.dispatch({ effects: mapProblems.of(problems) });
  forceLinting(view);

  const form = textarea.form;
  if (form) form.addEventListener("submit", () => { textarea.value = view.state.doc.toString(); });
  if (kind === "json" && textarea.dataset.schemaUrl) loadSchema(view, textarea.dataset.schemaUrl);
  textarea.studioEditor = view; // for tests and for the page's own scripts
  return view;
}

function start() {
  for (const textarea of document.querySelectorAll("textarea[data-editor]")) attach(textarea);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
