/**
 * Shared look of the mechlab views: theme colours through CSS variables (JupyterLab's `--jp-*`,
 * then VS Code's `--vscode-*`), falling back to the page's own colours, so views read in light
 * and dark themes alike.
 */

export const THEME_CSS = `
.ml-view { font: 12px var(--jp-ui-font-family, system-ui, sans-serif); color: var(--jp-ui-font-color1, var(--vscode-editor-foreground, inherit)); }
.ml-view select, .ml-view button { font: inherit; color: inherit; background: var(--jp-layout-color1, var(--vscode-editor-background, transparent)); border: 1px solid var(--jp-border-color1, rgba(128, 128, 128, 0.6)); border-radius: 3px; padding: 1px 4px; }
.ml-view .ml-controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 6px; }
.ml-view .ml-muted { color: var(--jp-ui-font-color2, rgba(128, 128, 128, 0.9)); }
.ml-view .ml-token { white-space: pre-wrap; font-family: var(--jp-code-font-family, ui-monospace, monospace); border-radius: 2px; padding: 0 1px; cursor: default; }
.ml-view .ml-legend { display: inline-block; width: 180px; margin-top: 6px; }
.ml-view .ml-legend-bar { height: 10px; border: 1px solid var(--jp-border-color2, rgba(128, 128, 128, 0.4)); }
.ml-view .ml-legend-labels { display: flex; justify-content: space-between; font-size: 10px; }
.ml-view .ml-info { min-height: 1.4em; margin-top: 4px; font-family: var(--jp-code-font-family, ui-monospace, monospace); white-space: pre-wrap; }
`;

/** Appends a <style> with `css` to `el` (scoped by the views' own class names). */
export function addStyle(el: HTMLElement, css: string): void {
  const style = el.ownerDocument.createElement("style");
  style.textContent = THEME_CSS + css;
  el.append(style);
}

/** A token as shown: whitespace control characters made visible. */
export function tokenLabel(token: string): string {
  return token.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/\r/g, "␍");
}

/** A <select> with `options` ([value, label]); `onChange` gets the chosen value. */
export function selectElement(doc: Document, testId: string, label: string, options: [string, string][], onChange: (value: string) => void): { wrapper: HTMLElement; select: HTMLSelectElement } {
  const wrapper = doc.createElement("label");
  wrapper.textContent = `${label} `;
  const select = doc.createElement("select");
  select.dataset.testid = testId;
  for (const [value, text] of options) {
    const option = doc.createElement("option");
    option.value = value;
    option.textContent = text;
    select.append(option);
  }
  select.addEventListener("change", () => onChange(select.value));
  wrapper.append(select);
  return { wrapper, select };
}
