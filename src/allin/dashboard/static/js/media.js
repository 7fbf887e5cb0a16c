// The composer's media picker: files go up as the raw request body with a progress bar (XHR,
// since fetch reports no upload progress), or come from the user's library; previews come
// through the API with the token, as blob: URLs (the page loads nothing it cannot authorise).

import { accessToken, api } from "./api.js";
import { h, nextId, toast } from "./dom.js";

function upload(file, onProgress) {
  return accessToken().then(
    (token) =>
      new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", `/api/media?filename=${encodeURIComponent(file.name || "upload")}`);
        xhr.setRequestHeader("Authorization", `Bearer ${token}`);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
        xhr.onerror = () => reject(new Error("The upload was interrupted"));
        xhr.onload = () => {
          let envelope = {};
          try {
            envelope = JSON.parse(xhr.responseText);
          } catch {
            // not JSON
          }
          if (envelope.success) resolve(envelope.data);
          else reject(new Error(envelope.error?.message || `Upload failed (${xhr.status})`));
        };
        xhr.send(file);
      }),
  );
}

async function previewUrl(media) {
  const path = media.has_thumbnail ? "thumbnail" : media.kind === "image" ? "file" : null;
  if (!path) return null;
  const token = await accessToken();
  const response = await fetch(`/api/media/${media.id}/${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return response.ok ? URL.createObjectURL(await response.blob()) : null;
}

const MAX_MEDIA = 20; // the posts API's limit per post
const LIBRARY_SIZE = 200;

// `chosen` is the list of media ids the post carries, `details` what the API said of each
// (kind, duration); `onChange` after each change. Files come from an upload or the library.
export function mediaPicker(chosen, onChange, details = {}) {
  const id = nextId("media");
  const input = h("input", { id, type: "file", multiple: true, accept: "image/*,video/*", class: "visually-hidden" });
  const list = h("ul", { class: "media-list", "aria-live": "polite" });
  const previews = new Map(); // media id -> blob: URL, revoked when the page goes
  const preview = async (media) => {
    if (!previews.has(media.id)) previews.set(media.id, previewUrl(media).catch(() => null));
    return previews.get(media.id);
  };
  const remove = (media, item) => {
    chosen.splice(chosen.indexOf(media.id), 1);
    item.remove();
    onChange();
    library.focus();
  };
  const show = async (media, item = null) => {
    if (!item) list.append((item = h("li", { class: "media-item" }, h("span", { class: "media-name" }, media.filename))));
    item.dataset.media = media.id;
    const url = await preview(media);
    item.replaceChildren(
      url ? h("img", { src: url, alt: "", class: "media-thumb" }) : h("span", { class: "media-thumb media-kind" }, media.kind),
      h("span", { class: "media-name" }, media.filename),
      h("button", { class: "button button-small button-quiet", type: "button", "aria-label": `Remove ${media.filename}`, onclick: () => remove(media, item) }, "Remove"),
    );
  };
  const add = async (file) => {
    if (chosen.length >= MAX_MEDIA) return toast(`A post takes at most ${MAX_MEDIA} files`, "error");
    const bar = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
    const item = h("li", { class: "media-item" }, h("span", { class: "media-name" }, file.name), bar);
    list.append(item);
    try {
      const media = await upload(file, (share) => (bar.value = share));
      chosen.push(media.id);
      details[media.id] = media;
      await show(media, item);
      onChange();
    } catch (error) {
      item.remove();
      toast(`${file.name}: ${error.message}`, "error");
    }
  };
  input.addEventListener("change", () => {
    [...input.files].forEach(add);
    input.value = "";
  });
  const pick = (picked) => {
    const room = Math.max(0, MAX_MEDIA - chosen.length);
    if (picked.length > room) toast(`A post takes at most ${MAX_MEDIA} files: ${room ? `the first ${room} were added` : "none was added"}`, "error");
    for (const media of picked.slice(0, room)) {
      chosen.push(media.id);
      details[media.id] = media;
      show(media);
    }
    if (room && picked.length) onChange();
  };
  const library = h("button", { class: "button button-small", type: "button", onclick: () => openLibrary(chosen, preview, pick) }, "Choose from library");
  const label = h("label", { for: id, class: "button button-small" }, "Add photos or videos");
  const box = h("div", { class: "media-picker" }, h("div", { class: "button-row" }, label, library), input, list);
  box.cleanup = () => previews.forEach((url) => url.then((u) => u && URL.revokeObjectURL(u)));
  if (chosen.length) showChosen(chosen, details, show);
  return box;
}

// A post opened for editing already carries media: show each as the library knows it.
async function showChosen(chosen, details, show) {
  try {
    const { data } = await api("/api/media", { query: { limit: LIBRARY_SIZE } });
    const known = new Map(data.map((media) => [media.id, media]));
    for (const mediaId of chosen) {
      const media = known.get(mediaId) || { id: mediaId, filename: "A file not in the library", kind: "file" };
      details[mediaId] = media;
      await show(media);
    }
  } catch (error) {
    toast(error.message, "error");
  }
}

// The library in a modal dialog: tick files, then add them (Escape or Cancel adds nothing).
async function openLibrary(chosen, preview, pick) {
  const titleId = nextId("library-title");
  const grid = h("ul", { class: "library-grid" });
  const note = h("p", { class: "muted small", role: "status" }, "Loading…");
  const addButton = h("button", { class: "button button-primary", value: "add" }, "Add selected");
  const dialog = h(
    "dialog",
    { class: "dialog library-dialog", "aria-labelledby": titleId },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: titleId }, "Media library"),
      note,
      grid,
      h("div", { class: "dialog-actions" }, h("button", { class: "button button-quiet", value: "cancel" }, "Cancel"), addButton),
    ),
  );
  let media = [];
  dialog.addEventListener("close", () => {
    const ticked = new Set([...grid.querySelectorAll("input:checked:not(:disabled)")].map((box) => box.value));
    dialog.remove();
    if (dialog.returnValue === "add") pick(media.filter((m) => ticked.has(m.id)));
  });
  document.body.append(dialog);
  dialog.showModal();
  try {
    ({ data: media } = await api("/api/media", { query: { limit: LIBRARY_SIZE } }));
  } catch (error) {
    note.textContent = error.message;
    note.classList.add("field-error");
    return;
  }
  if (!media.length) {
    note.textContent = "The library is empty: upload a photo or video first.";
    addButton.disabled = true;
    return;
  }
  note.textContent = `${media.length} ${media.length === 1 ? "file" : "files"}. Tick the ones to add.`;
  grid.replaceChildren(...media.map((item) => libraryItem(item, chosen.includes(item.id))));
  grid.querySelector("input:not(:disabled)")?.focus();
  for (const item of media) {
    preview(item).then((url) => {
      const slot = grid.querySelector(`[data-media="${item.id}"] .media-thumb`);
      if (url && slot) slot.replaceWith(h("img", { src: url, alt: "", class: "media-thumb" }));
    });
  }
}

function libraryItem(media, already) {
  const boxId = nextId("library-item");
  const about = media.kind === "video" && media.duration_seconds ? `video, ${Math.round(media.duration_seconds)} s` : media.kind;
  return h(
    "li",
    { class: "library-item", dataset: { media: media.id } },
    h("input", { type: "checkbox", id: boxId, value: media.id, checked: already, disabled: already }),
    h(
      "label",
      { for: boxId },
      h("span", { class: "media-thumb media-kind" }, media.kind),
      h("span", { class: "media-name" }, media.filename),
      h("span", { class: "muted small" }, already ? "already in the post" : about),
    ),
  );
}
