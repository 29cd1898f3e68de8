// The Fulcrum timeline page: plain browser JavaScript, no build step.
// It speaks only the public post API, so it works the same directly on a node or through the balancer.
(function () {
  'use strict';

  var PAGE_SIZE = 20;
  var params = new URLSearchParams(location.search);
  // Changes made elsewhere arrive live, as Server-Sent Events from /events. Only when the stream
  // fails MAX_STREAM_FAILURES times in a row does the page poll instead (and tries the stream again
  // every STREAM_RETRY_MS); ?feed=poll makes it poll from the start.
  var MAX_STREAM_FAILURES = 3;
  var STREAM_RETRY_MS = 30000;
  var POLL_ONLY = params.get('feed') === 'poll' || !window.EventSource;
  // How often a polling page asks whether the newest posts changed. The question is a conditional
  // GET (If-None-Match with the last ETag): while nothing changed the answer is a 304 without a body.
  // ?poll=MS overrides it.
  var POLL_MS = Number(params.get('poll')) || 3000;
  // The balancer names the node that served each answer in this header when its config says
  // `backend-header: X-Fulcrum-Backend` (config/balancer.yaml of the local cluster does).
  var BACKEND_HEADER = 'X-Fulcrum-Backend';
  // Answers that mean the API behind the page is not there (the balancer has no node, or a proxy
  // lost it), as opposed to an answer about the request.
  var UNREACHABLE = [502, 503, 504];

  function $(id) { return document.getElementById(id); }
  var form = $('post-form');
  var authorInput = $('author');
  var textInput = $('text');
  var statusLine = $('status');
  var timeline = $('timeline');
  var olderButton = $('load-older');
  var emptyNote = $('empty');
  var servedBy = $('served-by');
  var offline = $('offline');
  var offlineText = $('offline-text');
  var retryButton = $('retry');
  var feedNote = $('feed');

  var posts = new Map();   // id -> the post as shown
  var nextCursor = null;   // the cursor of the next older page, or null
  var loaded = false;      // the first page arrived
  var newestEtag = null;   // ETag of the newest page, as last seen
  var directNode = null;   // the node's own id from /health, for answers without the balancer's header
  var unsent = null;       // {author, text, key} of a post whose answer never came: a retry reuses the key
  var loading = null;      // the first page's request, while it runs
  var early = [];          // events that came before the first page, applied after it (then null)

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

  // ---- the API: every request notes which node answered, and whether the API is reachable ----------

  function ApiError(message, status, unreachable) {
    this.message = message;
    this.status = status;
    this.unreachable = unreachable;
  }

  function api(method, path, body, headers) {
    // no-store: the page's own If-None-Match decides, the browser cache does not answer for it.
    var init = { method: method, headers: Object.assign({}, headers || {}), cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      var node = noteServedBy(response, method + ' ' + path.split('?')[0]);
      if (UNREACHABLE.indexOf(response.status) >= 0) {
        return response.json().catch(function () { return null; }).then(function (json) {
          var why = 'HTTP ' + response.status + (json && json.detail ? ': ' + json.detail : '');
          showOffline(why);
          throw new ApiError(why, response.status, true);
        });
      }
      hideOffline();
      var answer = { status: response.status, body: null, etag: response.headers.get('ETag'), node: node };
      if (response.status === 204 || response.status === 304) { return answer; }
      return response.json().catch(function () { return null; }).then(function (json) {
        if (!response.ok) {
          throw new ApiError((json && json.detail) || response.statusText, response.status, false);
        }
        answer.body = json;
        return answer;
      });
    }, function () {
      // The browser's own words ("Failed to fetch", "NetworkError...") tell a person nothing more.
      showOffline('no answer from the server');
      throw new ApiError('the API cannot be reached', 0, true);
    });
  }

  function noteServedBy(response, action) {
    var node = response.headers.get(BACKEND_HEADER);
    if (node) {
      servedBy.textContent = 'Last answer (' + action + ') from node ' + node + ', through the balancer';
    } else if (directNode) {
      node = directNode;
      servedBy.textContent = 'Served directly by node ' + node + ' (no balancer in front)';
    }
    if (node) { servedBy.dataset.node = node; }
    return node;
  }

  function by(answer) { return answer.node ? ' (node ' + answer.node + ')' : ''; }

  function showOffline(why) {
    offlineText.textContent = 'The Fulcrum API cannot be reached (' + why + '). Nothing you typed is lost; '
      + 'the page keeps trying.';
    offline.hidden = false;
  }

  function hideOffline() { offline.hidden = true; }

  // ---- rendering ----------------------------------------------------------------------------------------

  function when(iso) { return new Date(iso).toLocaleString(); }

  function button(className, label, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = className;
    b.textContent = label;
    b.addEventListener('click', onClick);
    return b;
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
    var times = document.createElement('span');
    times.className = 'muted';
    var created = document.createElement('time');
    created.className = 'created';
    created.dateTime = post.createdAt;
    created.textContent = when(post.createdAt);
    times.appendChild(created);
    if (post.version > 1) {
      var edited = document.createElement('time');
      edited.className = 'edited';
      edited.dateTime = post.updatedAt;
      edited.textContent = '(edited ' + when(post.updatedAt) + ')';
      times.appendChild(edited);
    }
    meta.appendChild(author);
    meta.appendChild(times);

    var text = document.createElement('p');
    text.className = 'post-text';
    text.textContent = post.text;
    li.appendChild(meta);
    li.appendChild(text);

    if (post.author === me()) {
      var actions = document.createElement('div');
      actions.className = 'actions';
      actions.appendChild(button('link edit', 'Edit', function () { startEdit(li, post.id, null); }));
      actions.appendChild(button('link delete', 'Delete', function () { confirmDelete(li, post.id); }));
      li.appendChild(actions);
    }
    return li;
  }

  function item(id) { return timeline.querySelector('li[data-id="' + id + '"]'); }

  // Shows (or replaces) a post at its place: newest, that is highest id, first.
  function show(post) {
    posts.set(post.id, post);
    var li = render(post);
    var existing = item(post.id);
    if (existing) {
      timeline.replaceChild(li, existing);
    } else {
      var after = Array.prototype.find.call(timeline.children, function (other) {
        return Number(other.dataset.id) < post.id;
      });
      timeline.insertBefore(li, after || null);
    }
    emptyNote.hidden = posts.size > 0;
  }

  function forget(id) {
    posts.delete(id);
    var li = item(id);
    if (li) { li.remove(); }
    emptyNote.hidden = posts.size > 0;
  }

  // ---- edit, with the user's text kept on a conflict ------------------------------------------------------

  function startEdit(li, id, keptText) {
    var base = posts.get(id);
    li.dataset.editing = 'true';
    var area = document.createElement('textarea');
    area.className = 'edit-text';
    area.rows = 3;
    area.value = keptText === null ? base.text : keptText;
    var bar = document.createElement('div');
    bar.className = 'edit-actions';
    bar.appendChild(button('save', 'Save', function () { save(li, id, area, base); }));
    bar.appendChild(button('link cancel', 'Cancel', function () { show(posts.get(id)); }));
    li.querySelector('.post-text').replaceWith(area);
    li.querySelector('.actions').replaceWith(bar);
    area.focus();
  }

  function save(li, id, area, base) {
    // If-Match: an edit made elsewhere since `base` makes this a 412 instead of being overwritten.
    api('PUT', '/posts/' + id, { text: area.value }, { 'If-Match': '"' + base.version + '"' })
      .then(function (r) { show(r.body); setStatus('Saved' + by(r) + '.', false); })
      .catch(function (e) {
        if (e.status === 412) {
          conflict(li, id, area);
        } else if (e.status === 404) {
          // Deleted elsewhere: the text moves to the post box, so it can be posted again.
          textInput.value = area.value;
          forget(id);
          setStatus('That post was deleted elsewhere; your text is in the post box above.', true);
        } else {
          setStatus('Not saved: ' + e.message + '. Your text is kept; press Save again.', true);
        }
      });
  }

  // Someone saved another version meanwhile: show theirs, keep ours, and offer to reapply ours on top.
  function conflict(li, id, area) {
    api('GET', '/posts/' + id).then(function (r) {
      var theirs = r.body;
      posts.set(id, theirs);
      var box = li.querySelector('.conflict') || document.createElement('div');
      box.className = 'conflict';
      box.replaceChildren();
      var note = document.createElement('div');
      note.textContent = 'Someone else changed this post while you were editing (edited '
        + when(theirs.updatedAt) + '). Their text:';
      var theirText = document.createElement('p');
      theirText.className = 'theirs';
      theirText.textContent = theirs.text;
      var keep = document.createElement('div');
      keep.textContent = 'Your text is kept below.';
      box.appendChild(note);
      box.appendChild(theirText);
      box.appendChild(keep);
      box.appendChild(button('reapply', 'Reapply my text', function () { save(li, id, area, theirs); }));
      box.appendChild(button('link discard', 'Keep theirs', function () { show(theirs); }));
      li.insertBefore(box, area);
      setStatus('Not saved: the post changed meanwhile. Your text is kept.', true);
    }).catch(function (e) {
      if (e.status === 404) {
        textInput.value = area.value;
        forget(id);
        setStatus('That post was deleted elsewhere; your text is in the post box above.', true);
      } else {
        setStatus('Not saved, and the new version could not be loaded: ' + e.message, true);
      }
    });
  }

  // ---- delete, after a confirmation ----------------------------------------------------------------------

  function confirmDelete(li, id) {
    var ask = document.createElement('div');
    ask.className = 'confirm';
    var question = document.createElement('span');
    question.textContent = 'Delete this post?';
    ask.appendChild(question);
    ask.appendChild(button('confirm-delete', 'Delete', function () { remove(id); }));
    ask.appendChild(button('link keep', 'Keep', function () { show(posts.get(id)); }));
    li.querySelector('.actions').replaceWith(ask);
  }

  function remove(id) {
    var post = posts.get(id);
    api('DELETE', '/posts/' + id, undefined, { 'If-Match': '"' + post.version + '"' })
      .then(function (r) { forget(id); setStatus('Deleted' + by(r) + '.', false); })
      .catch(function (e) {
        if (e.status === 404) {
          forget(id);
          setStatus('That post had already been deleted elsewhere.', false);
        } else if (e.status === 412) {
          reloadPost(id);
          setStatus('Not deleted: the post changed meanwhile. Read the new text, then delete again if you want.', true);
        } else {
          show(posts.get(id));
          setStatus('Not deleted: ' + e.message, true);
        }
      });
  }

  function reloadPost(id) {
    api('GET', '/posts/' + id).then(function (r) { show(r.body); }).catch(function (e) {
      if (e.status === 404) { forget(id); }
    });
  }

  // ---- the timeline: pages, and the poll that follows changes made elsewhere --------------------------

  function loadPage(cursor) {
    var url = '/timeline?limit=' + PAGE_SIZE + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    return api('GET', url).then(function (r) {
      if (!cursor) { newestEtag = r.etag; }
      r.body.posts.forEach(function (p) {
        var shown = posts.get(p.id);
        if (!shown || shown.version < p.version) { show(p); }
      });
      nextCursor = r.body.nextCursor;
      olderButton.hidden = !nextCursor;
      loaded = true;
      emptyNote.hidden = posts.size > 0;
      if (early) {
        var events = early;
        early = null;
        events.forEach(function (apply) { apply(); });
      }
    });
  }

  function loadFirst() {
    if (!loaded && !loading) {
      loading = loadPage(null).catch(function (e) {
        loading = null;
        setStatus('Loading failed: ' + e.message, true);
      });
    }
  }

  // Asks whether the newest page changed. When it did: new posts appear, edited ones are redrawn, and
  // those that vanished from its range were deleted elsewhere. A post being edited is left alone;
  // saving it meets the change as a 412.
  function refreshNewest() {
    if (!loaded) { return loadPage(null); }
    var headers = newestEtag ? { 'If-None-Match': newestEtag } : {};
    return api('GET', '/timeline?limit=' + PAGE_SIZE, undefined, headers).then(function (r) {
      if (r.status === 304) { return; }
      newestEtag = r.etag;
      var fresh = new Map(r.body.posts.map(function (p) { return [p.id, p]; }));
      // The page covers every id down to its oldest post (everything, when there is no older page).
      var oldest = r.body.nextCursor ? Math.min.apply(null, r.body.posts.map(function (p) { return p.id; })) : 0;
      posts.forEach(function (p, id) {
        var li = item(id);
        if (id >= oldest && !fresh.has(id) && li && !li.dataset.editing) { forget(id); }
      });
      r.body.posts.forEach(function (p) {
        var shown = posts.get(p.id);
        var li = item(p.id);
        if (!shown || (shown.version !== p.version && !(li && li.dataset.editing))) { show(p); }
      });
    });
  }

  function poll() {
    refreshNewest().catch(function () { /* the banner says so; the next tick retries */ });
  }

  // ---- live: the event stream, and the poll that stands in while streams keep failing ------------

  var stream = null;
  var streamFailures = 0;  // in a row, without an open stream between
  var lastEventId = null;  // the id of the last event seen: a new stream resumes after it
  var pollTimer = null;

  function setFeed(state, text) {
    document.body.dataset.feed = state;
    feedNote.textContent = text;
  }

  function startPolling() {
    if (!pollTimer) { pollTimer = setInterval(poll, POLL_MS); }
    setFeed('polling', 'Checking for changes every ' + Math.round(POLL_MS / 1000) + ' s');
  }

  // A post as the stream tells it (created or edited): new ones appear at their place, edited ones
  // are redrawn, unless being edited here (saving meets the change as a 412).
  function followPost(p) {
    if (early) { early.push(function () { followPost(p); }); return; }
    var shown = posts.get(p.id);
    var li = item(p.id);
    if (shown) {
      if (shown.version < p.version && !(li && li.dataset.editing)) { show(p); }
    } else if (!nextCursor || p.id > Math.min.apply(null, Array.from(posts.keys()))) {
      show(p);
    }
  }

  function followDelete(id) {
    if (early) { early.push(function () { followDelete(id); }); return; }
    var li = item(id);
    if (li && !li.dataset.editing) { forget(id); }
  }

  function connect() {
    stream = new EventSource('/events' + (lastEventId ? '?lastEventId=' + encodeURIComponent(lastEventId) : ''));
    stream.addEventListener('open', function () {
      streamFailures = 0;
      if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
      setFeed('live', 'Live');
      // The first page is asked for once the stream is open, so no change falls between the two.
      // A page that had no stream before catches up once.
      if (!loaded) { loadFirst(); } else if (!lastEventId) { poll(); }
    });
    function follow(apply) {
      return function (e) {
        lastEventId = e.lastEventId;
        apply(JSON.parse(e.data));
      };
    }
    stream.addEventListener('post', follow(followPost));
    stream.addEventListener('delete', follow(function (d) { followDelete(d.id); }));
    // What this page saw is older than the server keeps: the newest page is asked for again.
    stream.addEventListener('reset', follow(function () { if (loaded) { poll(); } }));
    stream.addEventListener('error', function () {
      streamFailures++;
      loadFirst();
      if (stream.readyState !== EventSource.CLOSED && streamFailures < MAX_STREAM_FAILURES) {
        setFeed('reconnecting', 'Reconnecting...'); // the browser retries by itself
        return;
      }
      stream.close();
      if (streamFailures >= MAX_STREAM_FAILURES) {
        startPolling();
        setTimeout(connect, STREAM_RETRY_MS);
      } else {
        setTimeout(connect, 1000 * streamFailures);
      }
    });
  }

  // ---- posting ------------------------------------------------------------------------------------------

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var author = me();
    var text = textInput.value;
    localStorage.setItem('fulcrum.author', author);
    // The key makes a retry safe: a post whose answer was lost is not written twice. A new text is
    // a new post, with a new key (the API refuses a key reused with another body).
    if (!unsent || unsent.author !== author || unsent.text !== text) {
      unsent = { author: author, text: text, key: newKey() };
    }
    setStatus('Posting...', false);
    api('POST', '/posts', { author: author, text: text }, { 'Idempotency-Key': unsent.key })
      .then(function (r) {
        unsent = null;
        textInput.value = '';
        show(r.body);
        setStatus('Posted' + by(r) + '.', false);
      })
      .catch(function (e) {
        setStatus('Not posted: ' + e.message + '. Your text is kept; press Post again.', true);
      });
  });

  authorInput.addEventListener('change', function () {
    localStorage.setItem('fulcrum.author', me());
    var all = Array.from(posts.values());
    timeline.replaceChildren();
    all.forEach(show);
  });

  olderButton.addEventListener('click', function () {
    if (nextCursor) {
      loadPage(nextCursor).catch(function (e) { setStatus('Loading failed: ' + e.message, true); });
    }
  });

  retryButton.addEventListener('click', poll);

  // /health names the node itself: the fallback when no balancer header names one.
  api('GET', '/health').then(function (r) {
    if (!r.node) {
      directNode = r.body.node;
      servedBy.textContent = 'Served directly by node ' + directNode + ' (no balancer in front)';
      servedBy.dataset.node = directNode;
    }
  }).catch(function () {});

  if (POLL_ONLY) {
    loadFirst();
    startPolling();
  } else {
    connect();
  }
})();
