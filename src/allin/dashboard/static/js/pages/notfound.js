import { h } from "../dom.js";

export async function render({ main, setTitle }) {
  setTitle("Not found");
  main.append(
    h(
      "section",
      { class: "page narrow" },
      h("h1", {}, "Page not found"),
      h("p", {}, "There is nothing at this address."),
      h("a", { class: "button", href: "/app", "data-link": true }, "Back to the start"),
    ),
  );
}
