// Loaded after require.js and before the widget manager (embed-amd.js).
// 1. Point the manager's AMD modules at the copy served with this site, so that it computes
//    its asset URLs (icon fonts) from there instead of a CDN.
// 2. The manager calls the MathJax 2 API (MathJax.Hub.Queue); the site runs MathJax 3.
//    Every object assigned to window.MathJax gets a hidden Hub that forwards to typesetPromise.
(function () {
  var here = document.currentScript.src;
  var dist = here.substring(0, here.lastIndexOf("/") + 1) + "vendor/html-manager/dist/embed-amd";
  var paths = {};
  ["@jupyter-widgets/base", "@jupyter-widgets/base7", "@jupyter-widgets/controls",
   "@jupyter-widgets/controls7", "@jupyter-widgets/html-manager",
   "@jupyter-widgets/html-manager/dist/libembed-amd"].forEach(function (n) { paths[n] = dist; });
  window.require.config({ paths: paths });

  function withHub(mj) {
    if (mj && typeof mj === "object" && !("Hub" in mj)) {
      Object.defineProperty(mj, "Hub", {
        enumerable: false, configurable: true,
        value: { Queue: function (job) {
          var el = Array.isArray(job) ? job[2] : undefined;
          if (window.MathJax && window.MathJax.typesetPromise) {
            window.MathJax.typesetPromise(el ? [el] : undefined).catch(function () {});
          }
        } }
      });
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (v) { current = withHub(v); }
  });
})();
