"""The only template tags a document template may use: conditions, loops, names, comments.

No {% load %}, {% include %}, {% extends %}, {% url %}, {% csrf_token %} or {% debug %}: a template
an admin writes can reach nothing but the plain values it is given.
"""

from django.template import Library, defaulttags

register = Library()

register.tag("if", defaulttags.do_if)
register.tag("for", defaulttags.do_for)
register.tag("with", defaulttags.do_with)
register.tag("comment", defaulttags.comment)
register.tag("spaceless", defaulttags.spaceless)
register.tag("cycle", defaulttags.cycle)
register.tag("firstof", defaulttags.firstof)
register.tag("now", defaulttags.now)
register.tag("templatetag", defaulttags.templatetag)
