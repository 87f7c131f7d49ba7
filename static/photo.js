// The photo of the person: chosen from a file or taken with the front camera,
// shrunk in the browser (no request passes OpenWhisk's 1 MB), previewed with
// its faces outlined (photo_faces finds them), the one a search will use
// marked, and any other a tap away (a group photo). No build step.
"use strict";

const FindMePhoto = (() => {
  const $ = (id) => document.getElementById(id);
  const MAX_SIDE = 1600;
  const MAX_UPLOAD_CHARS = 900_000;
  const NO_FACE = "No face was found in this photo. Choose one where your face is clear, large and facing the camera.";
  // photo: {blob, width, height}; faces: photo_faces' answer, or null when it could not say.
  // problem: why FindMe cannot use the photo (photo_faces said), in words.
  const state = { file: null, photo: null, faces: null, chosen: null, problem: "", ready: Promise.resolve(), generation: 0 };
  let onError = () => {};

  // A phone photo is 3-8 MB: a JPEG of 1600 px at most, upright.
  async function shrink(file) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (_) {
      if (file.size * 1.37 < MAX_UPLOAD_CHARS) return { blob: file, width: 0, height: 0 };
      throw new Error("Your browser cannot open this photo, and it is too large to send as it is. Choose a JPEG, PNG or WebP photo.");
    }
    for (const [side, quality] of [[MAX_SIDE, 0.9], [MAX_SIDE, 0.75], [1200, 0.75], [800, 0.7]]) {
      const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
      if (blob && blob.size * 1.37 < MAX_UPLOAD_CHARS) return { blob, width: canvas.width, height: canvas.height };
    }
    throw new Error("Your photo is too large to send. Choose a smaller photo.");
  }

  function asBase64(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
      reader.onerror = () => reject(new Error("Your photo could not be read. Choose it again."));
      reader.readAsDataURL(blob);
    });
  }

  function caption(text) {
    $("reference-caption").textContent = text;
  }

  // Each face a button over the photo; the one used outlined in yellow.
  function drawFaces() {
    const found = state.faces;
    const faces = found?.faces || [];
    const shown = Boolean(state.photo?.width);  // else the browser cannot show it (a TIFF)
    $("reference-image").hidden = !shown;
    if (!shown) {
      caption(faces.length ? "Your browser cannot show this photo; it is sent as it is, and FindMe will look for its largest face."
        : found ? NO_FACE : "Your browser cannot show this photo; it is sent as it is.");
      return;
    }
    $("reference-faces").replaceChildren(...faces.map((face, index) => {
      const [top, right, bottom, left] = face.box;
      const used = index === state.chosen;
      const button = document.createElement("button");
      button.type = "button";
      button.className = used ? "face-choice used" : "face-choice";
      button.setAttribute("aria-pressed", String(used));
      button.setAttribute("aria-label", faces.length === 1 ? "Your face" : `Face ${index + 1} of ${faces.length}`);
      Object.assign(button.style, {
        left: `${(100 * left) / found.width}%`, top: `${(100 * top) / found.height}%`,
        width: `${(100 * (right - left)) / found.width}%`, height: `${(100 * (bottom - top)) / found.height}%`,
      });
      button.addEventListener("click", () => {
        state.chosen = index;
        drawFaces();
        $("reference-faces").children[index].focus();
      });
      return button;
    }));
    if (!found) return;
    if (!faces.length) caption(NO_FACE);
    else if (faces.length === 1) caption("FindMe will look for the face outlined in yellow.");
    else {
      caption(`FindMe will look for face ${state.chosen + 1} of ${faces.length}, outlined in yellow. ` +
        "If that is not you, click or tap your own face.");
    }
  }

  // photo_faces: which faces the photo holds. Without an answer (an older FindMe,
  // a busy one) the search takes the largest face, as it always did.
  async function findFaces(generation) {
    caption("Looking for faces in your photo…");
    try {
      const found = await FindMeApi.call("photo_faces", { reference_image: await asBase64(state.photo.blob) },
        "POST", { waitOut: false });
      if (generation !== state.generation) return;
      state.faces = found;
      state.chosen = found.largest ?? null;
      drawFaces();
    } catch (error) {
      if (generation !== state.generation) return;
      if (error.kind === "answer" && error.status === 400) {
        caption("");
        state.problem = FindMeWords.inWords(error.message);
        onError(state.problem);
        return;
      }
      caption("FindMe will use the largest face in this photo.");
    }
  }

  // A new photo: its preview and faces; `ready` settles once the page knows them.
  function choose(file) {
    state.generation += 1;
    state.file = file || null;
    state.problem = "";
    state.photo = null;
    state.faces = null;
    state.chosen = null;
    $("reference-faces").replaceChildren();
    $("reference-preview").hidden = !file;
    state.ready = file ? load(file, state.generation) : Promise.resolve();
  }

  async function load(file, generation) {
    caption("Reading your photo…");
    try {
      const photo = await shrink(file);
      if (generation !== state.generation) return;
      state.photo = photo;
      $("reference-image").src = URL.createObjectURL(photo.blob);
      drawFaces();
      await findFaces(generation);
    } catch (error) {
      if (generation !== state.generation) return;
      $("reference-preview").hidden = true;
      onError(error.message);
    }
  }

  // register_search's reference parameters; throws with words for the person.
  async function reference() {
    await state.ready;
    if (state.problem) throw new Error(state.problem);
    if (!state.photo) throw new Error("Choose your photo again.");
    if (state.faces && !state.faces.faces.length) throw new Error(NO_FACE);
    const params = { reference_image: await asBase64(state.photo.blob) };
    const face = state.faces?.faces[state.chosen];
    if (face) params.reference_face = face.box;
    return params;
  }

  function wire(reportError) {
    onError = reportError;
    $("reference").addEventListener("change", () => {
      onError("");
      $("selfie").value = "";  // a chosen file replaces a selfie
      choose($("reference").files[0]);
    });
    $("selfie").addEventListener("change", () => {
      onError("");
      $("reference").value = "";  // the selfie is the photo now
      choose($("selfie").files[0]);
    });
    $("take-selfie").addEventListener("click", () => $("selfie").click());
    // Choosing the same file again is a change too (to try it again).
    for (const input of ["reference", "selfie"]) $(input).addEventListener("click", () => { $(input).value = ""; });
    // The front camera where there is one to hold: a phone or a tablet.
    $("take-selfie").hidden = !(navigator.maxTouchPoints > 0 || matchMedia("(pointer: coarse)").matches);
  }

  const chosen = () => Boolean(state.file);
  const clear = () => {
    $("reference").value = "";
    $("selfie").value = "";
    choose(null);
  };

  return { wire, chosen, clear, reference };
})();
