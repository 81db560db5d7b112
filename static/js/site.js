/* site.js — progressive enhancement only: every page works without it.
 *  - filters apply as soon as a box is ticked or the sort changes
 *  - empty fields are left out of the URL (cleaner, shareable links)
 *  - the filter panel starts open on wide screens
 *  - the product page says which size is chosen, keeps the size choice
 *    consistent with the colour and shows the chosen colour's image
 *  - gallery thumbnails scroll the image strip instead of jumping
 *  - personal parts of shared pages (recently viewed) are fetched into
 *    their [data-fragment] slots, so the cached HTML stays the same for all
 *  - the search box suggests the visitor's recent and popular searches */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function submit(form) {
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  ready(function () {
    /* ---- listing filters ---- */
    var filters = document.getElementById("filters");
    if (filters) {
      filters.addEventListener("change", function (e) {
        var t = e.target;
        if (!t || !t.hasAttribute("data-autosubmit")) return;
        submit(filters);
      });
      filters.addEventListener("submit", function () {
        var fields = filters.querySelectorAll("input[name], select[name]");
        for (var i = 0; i < fields.length; i++) {
          var f = fields[i];
          if ((f.type === "radio" || f.type === "checkbox") && !f.checked) continue;
          if (f.value === "") f.disabled = true;
        }
        filters.setAttribute("aria-busy", "true");
      });
      /* a page restored from the back/forward cache gets its fields back */
      window.addEventListener("pageshow", function () {
        var off = filters.querySelectorAll("[disabled]");
        for (var i = 0; i < off.length; i++) off[i].disabled = false;
        filters.removeAttribute("aria-busy");
      });
      var panel = filters.querySelector("[data-filters-panel]");
      if (panel && window.matchMedia && window.matchMedia("(min-width: 900px)").matches) panel.open = true;
    }

    /* ---- product picker ---- */
    var track = document.querySelector(".gallery__track");
    function showImage(number) {
      var slide = number && number !== "0" ? document.getElementById("image-" + number) : null;
      if (!slide || !track) return false;
      track.scrollTo({ left: slide.offsetLeft, behavior: "smooth" });
      return true;
    }
    var picker = document.querySelector(".picker");
    if (picker) {
      var choice = picker.querySelector("[data-size-choice]");
      var describe = function () {
        var chosen = picker.querySelector('input[name="variant_id"]:checked');
        if (!choice) return;
        if (!chosen) { choice.textContent = ""; return; }
        var label = chosen.closest("label");
        var stock = label && label.querySelector(".size__stock");
        choice.textContent = "Size " + chosen.getAttribute("data-size-label") + " selected" +
          (stock ? " · " + stock.textContent : "");
      };
      picker.addEventListener("change", function (e) {
        var t = e.target;
        if (t.hasAttribute("data-colour-radio")) {
          /* a size chosen in another colour no longer applies */
          var sizes = picker.querySelectorAll('input[name="variant_id"]:checked');
          for (var i = 0; i < sizes.length; i++) {
            var group = sizes[i].closest("[data-colour]");
            if (group && group.getAttribute("data-colour") !== t.value) sizes[i].checked = false;
          }
          showImage(t.getAttribute("data-image"));
        }
        describe();
      });
      describe();
    }

    /* ---- personal fragments ---- */
    var slots = document.querySelectorAll("[data-fragment]");
    var tokenWaiters = [];
    function csrfToken() {
      var el = document.querySelector("[data-csrf]");
      return el ? el.getAttribute("data-csrf") : null;
    }
    Array.prototype.forEach.call(slots, function (slot) {
      if (!window.fetch) return;
      fetch(slot.getAttribute("data-fragment"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          if (html) slot.innerHTML = html;
          /* a one-time message for this (shared) page */
          var flash = slot.querySelector("[data-flash]");
          var main = document.getElementById("main");
          if (flash && main) {
            var box = document.createElement("div");
            box.className = "container";
            flash.hidden = false;
            box.appendChild(flash);
            main.insertBefore(box, main.firstChild);
          }
          if (csrfToken()) tokenWaiters.splice(0).forEach(function (fn) { fn(); });
        })
        .catch(function () { /* personal extras are optional */ });
    });

    /* ---- forms on shared pages (add to bag): post them with the visitor's
     * token from the header fragment; without JavaScript they go to a
     * confirmation page that carries the token itself. The post is a real
     * form submission, not fetch(): the browser shows the answer, so the
     * bag's "Added to your bag" (a one-time message that a fetch following
     * the redirect would use up) or the reason it could not be added
     * (sold out, too many pairs) reaches the shopper ---- */
    var tokenForms = document.querySelectorAll("form[data-post-with-token]");
    Array.prototype.forEach.call(tokenForms, function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.fetch || !window.FormData) return;
        var chosen = form.querySelector('input[name="variant_id"]:checked');
        if (!chosen) return; /* the server explains: choose a size */
        e.preventDefault();
        var send = function () {
          var post = document.createElement("form");
          post.method = "post";
          post.action = form.getAttribute("action");
          post.hidden = true;
          var data = new FormData(form);
          data.append("csrf_token", csrfToken());
          data.forEach(function (value, name) {
            var field = document.createElement("input");
            field.type = "hidden";
            field.name = name;
            field.value = value;
            post.appendChild(field);
          });
          form.setAttribute("aria-busy", "true");
          document.body.appendChild(post);
          post.submit();
        };
        if (csrfToken()) send(); else tokenWaiters.push(send);
      });
    });

    /* ---- the bag: a changed quantity applies at once ---- */
    Array.prototype.forEach.call(document.querySelectorAll("[data-autosubmit-form]"), function (form) {
      form.addEventListener("change", function (e) {
        if (e.target && e.target.hasAttribute("data-autosubmit")) submit(form);
      });
    });

    /* ---- search suggestions ---- */
    var box = document.getElementById("site-search");
    if (box && window.fetch) {
      var list = document.createElement("datalist");
      list.id = "site-search-suggestions";
      box.parentNode.appendChild(list);
      box.setAttribute("list", list.id);
      var last = null, timer = null;
      var suggest = function () {
        var q = box.value;
        if (q === last) return;
        last = q;
        fetch("/api/v1/search/suggest?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) {
            while (list.firstChild) list.removeChild(list.firstChild);
            (data.suggestions || []).forEach(function (s) {
              var o = document.createElement("option");
              o.value = s.text;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      };
      box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, 150); });
      box.addEventListener("focus", suggest);
    }

    /* ---- gallery ---- */
    var thumbs = document.querySelectorAll(".gallery__thumbs a");
    for (var i = 0; i < thumbs.length; i++) {
      thumbs[i].addEventListener("click", function (e) {
        if (showImage(this.getAttribute("href").replace("#image-", ""))) e.preventDefault();
      });
    }
  });
})();
