// The resolve dialog (处置反馈): a note on what was done and, optionally, a photo from the camera.

/**
 * Opens the dialog for case `c`; `onResolve({note, photo})` gets the note and the File (or undefined).
 * @param {Function} t  the translator
 */
export function openResolve(c, t, onResolve) {
  const dialog = document.getElementById('resolve');
  const form = document.getElementById('resolve-form');
  form.reset();
  document.getElementById('resolve-title').textContent = t('resolve.title', { id: c.id });
  form.onsubmit = (event) => {
    event.preventDefault();
    dialog.close();
    onResolve({ note: form.elements.note.value.trim(), photo: form.elements.photo.files[0] });
  };
  document.getElementById('resolve-cancel').onclick = () => dialog.close();
  dialog.showModal();
}
