// 上报: a new case from the field. The form takes a category, a priority, a description and a photo
// from the camera or a file; the place is the phone's last fix, or the map's centre when there is none
// (the worker can pan the map to the spot first). The page queues it in the outbox, so it is sent, once,
// when there is signal.

/**
 * Opens the report dialog.
 * @param {Function} t  the translator
 * @param {object} options
 * @param {Map<string, string>} options.categories  code → name
 * @param {() => ({lat: number, lon: number, accuracy_m?: number, fix: boolean})} options.where  the place now
 * @param {(report: object) => void} options.onReport  `{category, priority, description, photo, lat, lon}`
 */
export function openReport(t, { categories, where, onReport }) {
  const dialog = document.getElementById('report');
  const form = document.getElementById('report-form');
  form.reset();
  const select = form.elements.category;
  select.replaceChildren(
    ...[...categories].map(([code, name]) => {
      const option = document.createElement('option');
      option.value = code;
      option.textContent = name;
      return option;
    }),
  );
  const place = where();
  const at = `${place.lat.toFixed(5)}, ${place.lon.toFixed(5)}`;
  const note = document.getElementById('report-where');
  note.textContent = place.fix
    ? t('report.at_fix', { at, m: Math.round(place.accuracy_m || 0) })
    : t('report.at_centre', { at });
  note.dataset.source = place.fix ? 'fix' : 'centre';
  form.onsubmit = (event) => {
    event.preventDefault();
    const description = form.elements.description.value.trim();
    if (!description) return;
    dialog.close();
    onReport({
      category: select.value,
      priority: form.elements.priority.value,
      description,
      photo: form.elements.photo.files[0],
      lat: place.lat,
      lon: place.lon,
    });
  };
  document.getElementById('report-cancel').onclick = () => dialog.close();
  dialog.showModal();
}
