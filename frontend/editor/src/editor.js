/*
 * The LaTeX editor of the conversion page: CodeMirror 6 over the form's <textarea>.
 *
 * Bundled by scripts/build-editor into static/latexocr/editor.js (committed; no CDN). The
 * page works without it: the textarea is the form field. With it, the textarea is hidden and
 * kept in sync on submit; a click on an error's line number ("ligne 12") puts the cursor on
 * that line (latexocr.js sends the "latex-editor:goto" event; without this editor it selects
 * the line in the textarea itself).
 *
 * Keyboard: Tab is left to the browser (no indentation on Tab), so the editor is no trap;
 * Escape then Tab, the usual CodeMirror way out, works too and the page says so. The
 * highlighting colours are ours, not CodeMirror's default ones (some of which fall under
 * 4.5:1): each one reaches 5.5:1 or more on white and on the active line's blue.
 *
 * The editor lives in a shadow root: there CodeMirror (style-mod) puts its styles in
 * constructable style sheets (adoptedStyleSheets) instead of a <style> element, which the
 * site's CSP (style-src 'self', no nonce) would refuse. The CSP stays unchanged.
 */
import { EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import {
  HighlightStyle,
  StreamLanguage,
  bracketMatching,
  syntaxHighlighting,
} from "@codemirror/language";
import { stex } from "@codemirror/legacy-modes/mode/stex";
import { tags } from "@lezer/highlight";

// Contrast on #ffffff / on the active line (#e3ebfd): 8.7/7.3, 8.0/6.7, 7.6/6.3, 7.4/6.2,
// 10.3/8.6, 6.6/5.5, 7.2/6.0 (WCAG AA asks 4.5).
const contrastedHighlightStyle = HighlightStyle.define([
  { tag: [tags.keyword, tags.tagName, tags.macroName], color: "#1e40af" },
  { tag: [tags.string, tags.special(tags.string)], color: "#9f1239" },
  { tag: [tags.number, tags.atom, tags.bool, tags.literal], color: "#115e59" },
  { tag: [tags.comment, tags.meta], color: "#7c4a03", fontStyle: "italic" },
  { tag: [tags.bracket, tags.punctuation], color: "#374151" },
  { tag: [tags.variableName, tags.special(tags.variableName), tags.standard(tags.variableName)], color: "#6b21a8" },
  { tag: tags.invalid, color: "#b42318", textDecoration: "underline" },
  { tag: tags.heading, fontWeight: "bold" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strong, fontWeight: "bold" },
]);

function enhance(textarea) {
  const form = textarea.form;
  const label = document.querySelector('label[for="' + textarea.id + '"]');
  const contentAttributes = {
    "aria-label": label ? label.textContent.trim() : "LaTeX",
    "aria-multiline": "true",
    spellcheck: "false",
    autocapitalize: "off",
    autocorrect: "off",
    // contenteditable is focusable already; the explicit tabindex lets checkers (axe's
    // scrollable-region-focusable) see that the scrolling editor is reachable by keyboard.
    tabindex: "0",
  };
  const describedBy = textarea.getAttribute("aria-describedby");
  if (describedBy) {
    contentAttributes["aria-describedby"] = describedBy;
  }
  const host = document.createElement("div");
  host.className = "latex-codemirror";
  const shadow = host.attachShadow({ mode: "open" });
  // In the document before CodeMirror measures its lines (else the gutter gets no heights).
  textarea.parentNode.insertBefore(host, textarea);
  const view = new EditorView({
    root: shadow,
    parent: shadow,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        highlightActiveLine(),
        bracketMatching(),
        StreamLanguage.define(stex),
        syntaxHighlighting(contrastedHighlightStyle),
        // Tab is left to the browser: keyboard users can leave the editor.
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of(contentAttributes),
        EditorView.theme({
          "&": { height: "100%", backgroundColor: "#ffffff", color: "#17202e" },
          "&.cm-focused": { outline: "none" },
          ".cm-scroller": {
            fontFamily:
              'ui-monospace, "SFMono-Regular", "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace',
            lineHeight: "1.5",
          },
          ".cm-gutters": { backgroundColor: "#eef2f8", color: "#4d5869", borderRight: "1px solid #d3dae6" },
          ".cm-activeLine": { backgroundColor: "#e3ebfd" },
          ".cm-activeLineGutter": { backgroundColor: "#d3dae6", color: "#17202e" },
        }),
      ],
    }),
  });
  textarea.hidden = true;
  textarea.dataset.enhanced = "codemirror";

  if (label) {
    label.addEventListener("click", function (event) {
      event.preventDefault();
      view.focus();
    });
  }
  if (form) {
    form.addEventListener("submit", function () {
      textarea.value = view.state.doc.toString();
    });
  }
  textarea.addEventListener("latex-editor:goto", function (event) {
    const number = Math.min(Math.max(1, event.detail.line), view.state.doc.lines);
    const line = view.state.doc.line(number);
    view.dispatch({
      selection: { anchor: line.from, head: line.to },
      effects: EditorView.scrollIntoView(line.from, { y: "center" }),
    });
    view.focus();
  });
}

const textarea = document.getElementById("latex-editor");
if (textarea) {
  enhance(textarea);
}
