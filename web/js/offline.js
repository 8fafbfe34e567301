// The offline page (served by the service worker when a page cannot be loaded): tries again
// when the browser says it is back online, or when the person presses "Try again".
const status = document.getElementById('offline-status');

function retry() {
  status.textContent = 'Trying again…';
  location.reload();
}

document.getElementById('retry').addEventListener('click', retry);
window.addEventListener('online', retry);
