// The composer's media picker: files go up as the raw request body with a progress bar (XHR,
// since fetch reports no upload progress); previews come through the API with the token, as
// blob: URLs (the page loads nothing it cannot authorise).

import { accessToken } from "./api.js";
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

// `chosen` is the list of media ids the post carries, `details` what the API said of each
// (kind, duration); `onChange` after each change.
export function mediaPicker(chosen, onChange, details = {}) {
  const id = nextId("media");
  const input = h("input", { id, type: "file", multiple: true, accept: "image/*,video/*", class: "visually-hidden" });
  const list = h("ul", { class: "media-list", "aria-live": "polite" });
  const urls = [];
  const remove = (media, item) => {
    chosen.splice(chosen.indexOf(media.id), 1);
    item.remove();
    onChange();
  };
  const add = async (file) => {
    const bar = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
    const item = h("li", { class: "media-item" }, h("span", { class: "media-name" }, file.name), bar);
    list.append(item);
    try {
      const media = await upload(file, (share) => (bar.value = share));
      chosen.push(media.id);
      details[media.id] = media;
      const url = await previewUrl(media).catch(() => null);
      if (url) urls.push(url);
      item.dataset.media = media.id;
      item.replaceChildren(
        url ? h("img", { src: url, alt: "", class: "media-thumb" }) : h("span", { class: "media-thumb media-kind" }, media.kind),
        h("span", { class: "media-name" }, media.filename),
        h("button", { class: "button button-small button-quiet", type: "button", "aria-label": `Remove ${media.filename}`, onclick: () => remove(media, item) }, "Remove"),
      );
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
  const label = h("label", { for: id, class: "button button-small" }, "Add photos or videos");
  const box = h("div", { class: "media-picker" }, label, input, list);
  box.cleanup = () => urls.forEach((url) => URL.revokeObjectURL(url));
  return box;
}
