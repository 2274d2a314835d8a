// Suggestions for the « Commune » fields (web/communes.py): a <datalist> filled from /communes/suggestions as the
// user types. Progressive enhancement only: without this script the gateway resolves what was typed on submit.
const WAIT_MS = 200;

function enhance(input) {
  if (input.dataset.communesReady) return;
  input.dataset.communesReady = "1";
  const list = document.createElement("datalist");
  list.id = `${input.id}-suggestions`;
  input.after(list);
  input.setAttribute("list", list.id);
  let timer = null;
  let asked = "";
  const fill = async () => {
    const text = input.value.trim();
    if (text.length < 2 || text === asked) return;
    asked = text;
    const url = new URL(input.dataset.communes, window.location.href);
    url.searchParams.set("q", text);
    const dateField = input.dataset.communesDate && document.getElementById(input.dataset.communesDate);
    if (dateField && dateField.value) url.searchParams.set("date", dateField.value);  // a birth: the communes of then
    let found;
    try {
      const answer = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (!answer.ok) return;
      found = (await answer.json()).communes;
    } catch (error) {
      return;  // offline or signed out: typing still works, the form resolves on submit
    }
    if (asked !== text) return;  // the user typed on meanwhile
    list.replaceChildren(...found.map((commune) => {
      const option = document.createElement("option");
      option.value = commune.value;
      option.label = commune.detail;
      return option;
    }));
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(fill, WAIT_MS);
  });
}

document.querySelectorAll("input[data-communes]").forEach(enhance);
