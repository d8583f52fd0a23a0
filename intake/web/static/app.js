// The dossier pages' behaviour, in plain JavaScript (no build step, nothing downloaded):
// drag-and-drop uploads with per-file progress, replace/delete, refreshing the file states
// and findings while the dossier is processed, and the page picture viewer.
(function () {
  "use strict";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const live = document.getElementById("live");
  let timer = null;

  function refresh() {
    if (!live) return;
    fetch(live.dataset.live, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((r) => {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
        const state = r.headers.get("X-Dossier-State");
        return r.text().then((html) => ({ html, state }));
      })
      .then((got) => {
        if (!got) return;
        const open = live.querySelectorAll("details[open]").length;
        if (!open) live.innerHTML = got.html;  // never wipe a form someone is filling in
        const before = live.dataset.state;
        live.dataset.state = got.state;
        track();
        announce(before !== "done" && got.state === "done");
        schedule();
      })
      .catch(() => schedule(5000));
  }

  // The upload list above the file table follows each uploaded file's row in the part of
  // the page that refreshes: done, failed (and why), or still being processed.
  function track() {
    if (!live) return;
    document.querySelectorAll("#uploads li[data-ids]").forEach((item) => {
      const ids = item.dataset.ids.split(",").filter(Boolean);
      const rows = ids.map((id) => live.querySelector('tr.file-row[data-file-id="' + id + '"]'));
      const note = item.querySelector(".note");
      // A duplicate is not an error: its content is in the dossier already.
      const failed = rows.filter((r) => r && r.dataset.state === "failed" && !r.classList.contains("duplicate"));
      const copies = rows.filter((r) => r && r.classList.contains("duplicate"));
      note.className = failed.length ? "note error" : "note";
      if (ids.length === 1) {
        const row = rows[0];
        if (!row) { note.textContent = "已从申报中移除"; return; }
        const why = row.dataset.state === "failed" ? "：" + row.querySelector(".file-note").textContent.trim() : "";
        note.textContent = row.dataset.progress + why;
        return;
      }
      const done = rows.filter((r) => r && r.dataset.state === "done").length;
      const gone = rows.filter((r) => !r).length;
      const busy = ids.length - done - failed.length - copies.length - gone;
      const parts = ["共 " + ids.length + " 个文件：已完成 " + done];
      if (failed.length) parts.push("失败 " + failed.length);
      if (copies.length) parts.push("重复上传 " + copies.length);
      if (busy) parts.push("处理中 " + busy);
      if (gone) parts.push("已移除 " + gone);
      note.textContent = parts.join("，");
    });
  }

  // Changes of the files' rows (state, then what each file was recognised as) and of the
  // dossier's progress are said in the polite live region; nothing on the page's first load.
  let heard = null;
  function announce(finished) {
    const region = document.getElementById("announcer");
    if (!region || !live) return;
    const now = new Map();
    live.querySelectorAll("tr.file-row[data-file-id]").forEach((r) => now.set(r.dataset.fileId, r.dataset.announce || ""));
    const said = [];
    if (heard !== null) {
      for (const [id, text] of now) if (heard.get(id) !== text) said.push(text);
    }
    heard = now;
    const files = live.querySelector("#files");
    if (said.length && files) {
      said.unshift("已处理 " + files.dataset.doneFiles + " / " + files.dataset.totalFiles + " 个文件");
    }
    if (finished) said.push("全部文件处理完成，整份申报的审查结果已更新");
    if (said.length) region.textContent = said.join("；");
  }

  function schedule(delay) {
    clearTimeout(timer);
    if (!live || live.dataset.state === "done") return;
    timer = setTimeout(refresh, delay || 2000);
  }

  function message(detail, status) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return "请求格式不正确";
    return "上传失败（" + status + "），请稍后重试";
  }

  // One XMLHttpRequest per file, so each has its own progress bar. ``path`` names a file
  // from a dropped folder by where it is inside it.
  function send(method, url, file, path) {
    const list = document.getElementById("uploads");
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = path || file.name;
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", "上传进度：" + (path || file.name));
    const note = document.createElement("span");
    note.className = "note";
    note.textContent = "上传中";
    item.append(name, bar, note);
    if (list) list.prepend(item);
    const form = new FormData();
    form.append(method === "PUT" ? "file" : "files", file, path || file.name);
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        note.textContent = "已上传，排队处理";
        item.dataset.ids = (body.files || []).map((f) => f.id).join(",");
      } else {
        note.textContent = message(body.detail, xhr.status);
        note.className = "note error";
      }
      live.dataset.state = "processing";
      refresh();
    };
    xhr.onerror = () => { note.textContent = "网络中断，请重试"; note.className = "note error"; };
    xhr.send(form);
  }

  // A dropped folder (a clerk's whole 申报材料 folder) is read through the entries API:
  // every file in it and its subfolders, named by its path inside the folder, as a zipped
  // folder's files are; hidden files (.DS_Store, Thumbs.db's kin) are left out.
  function readAll(reader) {
    return new Promise((resolve, reject) => {
      const all = [];
      const next = () => reader.readEntries((batch) => {
        if (!batch.length) { resolve(all); return; }
        all.push(...batch);
        next();  // readEntries gives at most 100 at a time
      }, reject);
      next();
    });
  }

  async function walk(entry, out) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push({ file, path: entry.fullPath.replace(/^\//, "") });
    } else if (entry.isDirectory) {
      for (const child of await readAll(entry.createReader())) await walk(child, out);
    }
  }

  async function collect(entries) {
    const out = [];
    for (const entry of entries) await walk(entry, out);
    if (entries.length === 1 && entries[0].isDirectory) {
      const top = entries[0].name + "/";
      for (const f of out) if (f.path.startsWith(top)) f.path = f.path.slice(top.length);
    }
    return out.filter((f) => !f.path.split("/").some((part) => part.startsWith(".")));
  }

  function dropped(transfer) {
    // The entries must be taken while the drop event runs; reading them may take longer.
    const items = [...(transfer.items || [])].filter((item) => item.kind === "file");
    const entries = items.map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
    if (!entries.length || entries.some((entry) => !entry) || !entries.some((e) => e.isDirectory)) {
      return Promise.resolve([...transfer.files].map((file) => ({ file, path: file.name })));
    }
    return collect(entries);
  }
  window.intakeUpload = { collect };  // for the browser tests

  const zone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  if (zone && input) {
    const upload = (files) => { for (const f of files) send("POST", zone.dataset.upload, f); };
    zone.addEventListener("click", (e) => { if (e.target === zone) input.click(); });
    zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault(); zone.classList.remove("over");
      dropped(e.dataTransfer)
        .then((found) => {
          if (!found.length) window.alert("拖入的文件夹中没有文件");
          for (const f of found) send("POST", zone.dataset.upload, f.file, f.path);
        })
        .catch(() => window.alert("无法读取拖入的文件夹，请改为选择文件或上传 ZIP 压缩包"));
    });
    input.addEventListener("change", () => { upload(input.files); input.value = ""; });
  }

  const replaceInput = document.getElementById("replace-input");
  let replaceUrl = null;
  if (replaceInput) {
    replaceInput.addEventListener("change", () => {
      if (replaceInput.files.length && replaceUrl) send("PUT", replaceUrl, replaceInput.files[0]);
      replaceInput.value = "";
    });
  }

  function viewPage(url, title) {
    const dialog = document.getElementById("page-viewer");
    const img = document.getElementById("page-viewer-img");
    document.getElementById("page-viewer-title").textContent = title || "";
    img.alt = title || "";
    img.hidden = false;
    img.onerror = () => {
      // Say why instead of a broken picture (the originals purged: 410 with a message).
      img.alt = "这一页没有可显示的图像";
      fetch(url, { credentials: "same-origin" })
        .then((r) => r.json())
        .then((b) => {
          if (!b || !b.message) return;
          img.hidden = true;
          document.getElementById("page-viewer-title").textContent = b.message;
        })
        .catch(() => {});
    };
    img.src = url;
    dialog.showModal();
  }

  document.addEventListener("click", (e) => {
    const target = e.target.closest("[data-replace], [data-delete], [data-page-view]");
    if (!target) return;
    if (target.dataset.pageView) {
      e.preventDefault();
      viewPage(target.dataset.pageView, target.dataset.pageTitle);
    } else if (target.dataset.replace) {
      replaceUrl = target.dataset.replace;
      replaceInput.click();
    } else if (target.dataset.delete) {
      if (!window.confirm("确定从申报中删除“" + target.dataset.name + "”吗？")) return;
      fetch(target.dataset.delete, {
        method: "DELETE", credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
      }).then((r) => {
        if (!r.ok) return r.json().then((b) => window.alert(message(b.detail, r.status)));
        live.dataset.state = "processing";
        refresh();
      });
    }
  });

  announce(false);
  schedule();
})();
