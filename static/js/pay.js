/* pay.js — the card page: Stripe's card form (Stripe.js, loaded from
 * js.stripe.com; the page's CSP allows exactly that). The card details go
 * from the shopper's browser to Stripe; the shop only ever sees the
 * PaymentIntent's result, through the return page and the webhook. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("card-form");
    var errorBox = document.getElementById("card-error");
    if (!form || !window.Stripe) {
      if (errorBox) {
        errorBox.textContent = "The secure card form could not be loaded. Check your connection and reload the page.";
        errorBox.hidden = false;
      }
      return;
    }
    var stripe = window.Stripe(form.getAttribute("data-stripe-key"));
    var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret") });
    var payment = elements.create("payment");
    payment.mount("#card-element");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      form.setAttribute("aria-busy", "true");
      stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.getAttribute("data-return-url") } })
        .then(function (result) {
          if (result.error) {
            errorBox.textContent = result.error.message;
            errorBox.hidden = false;
            form.removeAttribute("aria-busy");
          }
        });
    });
  });
})();
