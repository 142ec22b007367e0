// Stands in for codemirror-json-schema's utils/markdown (markdown-it plus the Shiki highlighter, about
// 500 kB, whose highlighted code carries inline style attributes that the page's CSP refuses).
// Schema descriptions and type hints are short: escape them, keep `code` spans and line breaks.
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function renderMarkdown(markdown, inline = true) {
  const body = escapeHtml(markdown ?? "")
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\n/g, "<br>");
  return inline ? body : `<p>${body}</p>`;
}
