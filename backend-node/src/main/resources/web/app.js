// The Fulcrum timeline page: plain browser JavaScript, no build step.
// It speaks only the public post API, so it works the same directly on a node or through the balancer.
(function () {
  'use strict';

  var PAGE_SIZE = 20;
  var REFRESH_MS = 5000;

  var form = document.getElementById('post-form');
  var authorInput = document.getElementById('author');
  var textInput = document.getElementById('text');
  var statusLine = document.getElementById('status');
  var timeline = document.getElementById('timeline');
  var olderButton = document.getElementById('load-older');
  var emptyNote = document.getElementById('empty');
  var servedBy = document.getElementById('served-by');

  var nextCursor = null;
  var posts = new Map(); // id -> post currently shown

  authorInput.value = localStorage.getItem('fulcrum.author') || '';

  function me() { return authorInput.value.trim(); }

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.className = isError ? 'status-error' : 'muted';
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
  }

  function api(method, path, body, headers) {
    var init = { method: method, headers: Object.assign({}, headers || {}) };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      if (response.status === 204) { return { status: 204, body: null }; }
      return response.json().then(function (json) {
        if (!response.ok) {
          var err = new Error((json && json.detail) || response.statusText);
          err.status = response.status;
          throw err;
        }
        return { status: response.status, body: json };
      });
    });
  }

  function when(iso) {
    var d = new Date(iso);
    return d.toLocaleString();
  }

  function render(post) {
    var li = document.createElement('li');
    li.className = 'post' + (post.author === me() ? ' mine' : '');
    li.dataset.id = String(post.id);
    li.dataset.version = String(post.version);

    var meta = document.createElement('div');
    meta.className = 'meta';
    var author = document.createElement('span');
    author.className = 'author';
    author.textContent = post.author;
    var time = document.createElement('span');
    time.className = 'muted';
    time.textContent = when(post.createdAt) + (post.version > 1 ? ' (edited)' : '');
    meta.appendChild(author);
    meta.appendChild(time);

    var text = document.createElement('p');
    text.className = 'post-text';
    text.textContent = post.text;

    li.appendChild(meta);
    li.appendChild(text);

    if (post.author === me()) {
      var actions = document.createElement('div');
      actions.className = 'actions';
      var edit = document.createElement('button');
      edit.type = 'button';
      edit.className = 'link edit';
      edit.textContent = 'Edit';
      edit.addEventListener('click', function () { startEdit(li, post); });
      var del = document.createElement('button');
      del.type = 'button';
      del.className = 'link delete';
      del.textContent = 'Delete';
      del.addEventListener('click', function () { remove(li, post); });
      actions.appendChild(edit);
      actions.appendChild(del);
      li.appendChild(actions);
    }
    return li;
  }

  function show(post, atTop) {
    posts.set(post.id, post);
    var existing = timeline.querySelector('li[data-id="' + post.id + '"]');
    var li = render(post);
    if (existing) {
      timeline.replaceChild(li, existing);
    } else if (atTop) {
      timeline.insertBefore(li, timeline.firstChild);
    } else {
      timeline.appendChild(li);
    }
    emptyNote.hidden = posts.size > 0;
  }

  function startEdit(li, post) {
    var area = document.createElement('textarea');
    area.className = 'edit-text';
    area.rows = 3;
    area.value = post.text;
    var save = document.createElement('button');
    save.type = 'button';
    save.className = 'save';
    save.textContent = 'Save';
    var cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'link cancel';
    cancel.textContent = 'Cancel';
    var textP = li.querySelector('.post-text');
    var actions = li.querySelector('.actions');
    textP.replaceWith(area);
    actions.replaceChildren(save, cancel);
    cancel.addEventListener('click', function () { show(posts.get(post.id) || post, false); });
    save.addEventListener('click', function () {
      // If-Match makes a concurrent edit elsewhere fail with 412 instead of being overwritten.
      api('PUT', '/posts/' + post.id, { text: area.value }, { 'If-Match': '"' + post.version + '"' })
        .then(function (r) { show(r.body, false); setStatus('Saved.', false); })
        .catch(function (e) {
          setStatus(e.status === 412 ? 'Someone changed this post meanwhile; reloaded it.' : 'Edit failed: ' + e.message, true);
          if (e.status === 412) { reloadPost(post.id); }
        });
    });
    area.focus();
  }

  function reloadPost(id) {
    api('GET', '/posts/' + id).then(function (r) { show(r.body, false); }).catch(function () {});
  }

  function remove(li, post) {
    api('DELETE', '/posts/' + post.id, undefined, { 'If-Match': '"' + post.version + '"' })
      .then(function () {
        posts.delete(post.id);
        li.remove();
        emptyNote.hidden = posts.size > 0;
        setStatus('Deleted.', false);
      })
      .catch(function (e) { setStatus('Delete failed: ' + e.message, true); });
  }

  function loadPage(cursor) {
    var url = '/timeline?limit=' + PAGE_SIZE + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    return api('GET', url).then(function (r) {
      r.body.posts.forEach(function (p) { show(p, false); });
      nextCursor = r.body.nextCursor;
      olderButton.hidden = !nextCursor;
      emptyNote.hidden = posts.size > 0;
    });
  }

  // Picks up posts written elsewhere (other tabs, other nodes) without reloading the page.
  function refreshNewest() {
    return api('GET', '/timeline?limit=' + PAGE_SIZE).then(function (r) {
      var newest = 0;
      posts.forEach(function (_, id) { newest = Math.max(newest, id); });
      r.body.posts.slice().reverse().forEach(function (p) {
        if (p.id > newest) { show(p, true); }
      });
    }).catch(function () { /* the next tick retries */ });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var author = me();
    var text = textInput.value;
    localStorage.setItem('fulcrum.author', author);
    setStatus('Posting...', false);
    // The key makes a retried submit (for example through the balancer after a node failed) safe.
    api('POST', '/posts', { author: author, text: text }, { 'Idempotency-Key': newKey() })
      .then(function (r) {
        textInput.value = '';
        show(r.body, true);
        setStatus('Posted.', false);
      })
      .catch(function (e) { setStatus('Post failed: ' + e.message, true); });
  });

  authorInput.addEventListener('change', function () {
    localStorage.setItem('fulcrum.author', me());
    var all = Array.from(posts.values()).sort(function (a, b) { return b.id - a.id; });
    timeline.replaceChildren();
    all.forEach(function (p) { show(p, false); });
  });

  olderButton.addEventListener('click', function () {
    if (nextCursor) { loadPage(nextCursor).catch(function (e) { setStatus('Loading failed: ' + e.message, true); }); }
  });

  api('GET', '/health').then(function (r) {
    servedBy.textContent = 'Served by node ' + r.body.node + ' in ' + r.body.region;
  }).catch(function () {});

  loadPage(null).catch(function (e) { setStatus('Loading failed: ' + e.message, true); });
  setInterval(refreshNewest, REFRESH_MS);
})();
