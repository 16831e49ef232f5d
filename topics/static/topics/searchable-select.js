// A search box above each multi-select marked data-searchable (its value is the box's placeholder): typing
// hides the options whose text does not contain the words. A file, not an inline script, so the Content
// Security Policy can forbid inline scripts (script-src 'self').
document.querySelectorAll("select[data-searchable]").forEach(function (select) {
  const search = document.createElement("input");
  search.type = "search";
  search.placeholder = select.dataset.searchable;
  search.setAttribute("aria-label", select.dataset.searchable);
  search.style.marginBottom = ".35rem";
  select.before(search);
  search.addEventListener("input", function () {
    const words = search.value.trim().toLowerCase();
    for (const option of select.options) option.hidden = !option.text.toLowerCase().includes(words);
  });
});
